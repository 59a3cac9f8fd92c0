//! Procedural macros of the `csp` crate. Use them through `csp`: `csp::process` and
//! `csp::Ends`; the runnable examples live in `csp`'s documentation.
//!
//! Each macro works in three passes, as serde_derive and thiserror do: **parse** the item
//! into a small AST, **check** it and collect *every* error with its span, **expand**.
//! On error the item is emitted unchanged next to the `compile_error!`s, so the user sees
//! all problems at once and no "function not found" cascade.

mod ast;
mod check;
mod derive;
mod expand;
mod krate;

use proc_macro::TokenStream;

/// Turns a function into a process constructor.
///
/// `#[process] fn f(a: Input<u64>, n: u64) -> R { body }` makes `f(a, n)` return a
/// `csp::Process<T>` holding the process's name, the channel ends found in its
/// parameters, and the body, which runs only when a combinator runs the process.
///
/// **Result and errors.** Whether the body's value is an error is decided by its type:
/// - a return type spelled `...Result` (`Result<T, E>`, `std::io::Result<T>`,
///   `fmt::Result`, an alias such as `type Result<T> = std::result::Result<T, MyError>`)
///   makes a `Process<T>`; its `Err` fails the process. It must be a
///   `std::result::Result` whose error converts into `csp::BoxError`;
/// - any other return type `V` makes a `Process<V>`; if `V` is nevertheless a `Result`
///   (`type Fallible = Result<(), E>`), its `Err` still fails the process;
/// - no return type makes a `Process<()>`.
///
/// A failed process's ends that the body did not consume are poisoned, not retired.
///
/// **Arguments.** `name = "..."` sets the name (default: the function's);
/// `model = "..."` / `model = path` gives a CSPm model; `crate = path` says where `csp`
/// is, for a crate that reaches it through another crate's re-export (by default the
/// macro reads the calling crate's `Cargo.toml`, so a renamed dependency works).
///
/// **Generics.** Type and const parameters are kept. A parameter whose type holds ends
/// through a generic parameter records them when the bounds say so: `Input<T>` always,
/// a bare `E` only with `E: Ends` (otherwise it is taken for a plain value).
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
/// types, `const`/`unsafe`/`extern` functions, unknown or malformed arguments.
#[proc_macro_attribute]
pub fn process(args: TokenStream, item: TokenStream) -> TokenStream {
    let original: proc_macro2::TokenStream = item.clone().into();
    let mut errors = ast::Errors::default();
    let parsed = ast::ProcessFn::parse(args.into(), item.into(), &mut errors);
    match parsed {
        Ok(f) => {
            check::process_fn(&f, &mut errors);
            if errors.is_empty() {
                return expand::process_fn(&f).into();
            }
        }
        Err(e) => errors.push(e),
    }
    let mut out = original;
    out.extend(errors.into_compile_errors());
    out.into()
}

/// Derives `csp::process::Ends` for a struct or enum: the channel ends among its fields
/// are recorded when a value of it is a process parameter. Fields that are not ends are
/// skipped.
///
/// For a generic type, a field whose type mentions a type parameter (`inner: E`) is
/// required to be `Ends` (the impl gets `E: Ends`); mark a generic field that holds no
/// ends `#[ends(skip)]`. `#[ends(crate = path)]` on the type says where `csp` is, as for
/// `#[process]`.
///
/// ```text
/// #[derive(Ends)]
/// struct Pair { requests: Input<u64>, replies: Output<u64>, label: String }
///
/// #[derive(Ends)]
/// struct Tagged<E> { ends: E, #[ends(skip)] tag: PhantomData<E> }
/// ```
#[proc_macro_derive(Ends, attributes(ends))]
pub fn derive_ends(item: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(item as syn::DeriveInput);
    derive::derive_ends(&input).into()
}
