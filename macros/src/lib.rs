//! Procedural macros of the `csp` crate. Use them through `csp`: `csp::process` and
//! `csp::Ends`; the runnable examples live in `csp`'s documentation.
//!
//! Each macro works in three passes, as serde_derive and thiserror do: **parse** the item
//! into a small AST, **check** it and collect *every* error with its span, **expand**.
//! On error the item is emitted unchanged next to the `compile_error!`s, so the user sees
//! all problems at once and no "function not found" cascade.

mod ast;
mod check;
mod expand;

use proc_macro::TokenStream;

/// Turns a function into a process constructor.
///
/// `#[process] fn f(a: Input<u64>, n: u64) -> R { body }` makes `f(a, n)` return a
/// `csp::Process<T>` (where `R` is `T` or `Result<T, E>`) holding the process's name, the
/// channel ends found in its parameters, and the body, which runs only when a combinator
/// runs the process. `#[process(name = "...")]` sets the name (default: the function's).
///
/// ```text
/// #[process]
/// fn doubler(input: Input<u64>, output: Output<u64>) -> Result<(), ChannelError> {
///     for v in &input {
///         output.write(v * 2)?;
///     }
///     Ok(())
/// }
/// ```
///
/// Rejected, with an error at the offending token: `async fn`, `self` receivers,
/// borrowed or lifetime-carrying parameter types, `impl Trait` parameters or return
/// types, `const`/`unsafe`/`extern` functions.
#[proc_macro_attribute]
pub fn process(args: TokenStream, item: TokenStream) -> TokenStream {
    let original: proc_macro2::TokenStream = item.clone().into();
    match ast::ProcessFn::parse(args.into(), item.into()).and_then(|f| {
        check::process_fn(&f)?;
        Ok(expand::process_fn(&f))
    }) {
        Ok(tokens) => tokens.into(),
        Err(e) => {
            let mut out = original;
            out.extend(e.into_compile_error());
            out.into()
        }
    }
}

/// Derives `csp::process::Ends` for a struct or enum: the channel ends among its fields
/// are recorded when a value of it is a process parameter. Fields that are not ends are
/// skipped.
///
/// ```text
/// #[derive(Ends)]
/// struct Pair { requests: Input<u64>, replies: Output<u64>, label: String }
/// ```
#[proc_macro_derive(Ends)]
pub fn derive_ends(item: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(item as syn::DeriveInput);
    match expand::derive_ends(&input) {
        Ok(tokens) => tokens.into(),
        Err(e) => e.into_compile_error().into(),
    }
}
