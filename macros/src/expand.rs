//! Pass 3: generate the process constructor and the `Ends` impls.
//!
//! Every identifier the expansion introduces (`__csp_rec`, `__csp_arg0`, ...) has a
//! `Span::mixed_site()` span, so it can neither shadow nor be shadowed by a user's name.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use crate::ast::{ProcessFn, Return};
use crate::krate::csp_path;

/// An identifier of the expansion's own, invisible to the user's code.
pub fn hidden(name: &str) -> Ident {
    Ident::new(name, Span::mixed_site())
}

/// `tokens` with every span set to `span`, so that a trait-bound error about the path
/// they spell is reported at `span` (the user's type), not at the attribute.
pub fn respan(tokens: &TokenStream, span: Span) -> TokenStream {
    tokens
        .clone()
        .into_iter()
        .map(|mut tt| {
            tt.set_span(span);
            tt
        })
        .collect()
}

/// The probe call recording `value`'s ends into `r`; a derived generic type lacking
/// `Ends` is reported at `ty`.
pub fn probe(csp: &TokenStream, value: TokenStream, r: &Ident, ty: &syn::Type) -> TokenStream {
    let span = ty.span();
    let private = respan(&quote!(#csp::process::__private), span);
    let r = Ident::new(&r.to_string(), r.span().located_at(span));
    quote_spanned!(span=> (&&&#private::Probe(#value)).__csp_record(#r))
}

/// The function, now returning `csp::Process<R>`: it records the ends of its parameters
/// and moves them into the body's closure.
pub fn process_fn(f: &ProcessFn) -> TokenStream {
    let csp = csp_path(f.krate.as_ref());
    let item = &f.item;
    let (attrs, vis, ident) = (&item.attrs, &item.vis, &item.sig.ident);
    let generics = &item.sig.generics;
    let where_clause = &generics.where_clause;
    let name = &f.name;
    let model = match &f.model {
        Some(syn::Expr::Lit(lit)) => quote!(.with_model(#csp::process::Model::template(#lit))),
        Some(path) => quote!(.with_model(#csp::process::Model::generated(#path))),
        None => quote!(),
    };
    let (rec, r) = (hidden("__csp_rec"), hidden("__csp_r"));

    let outer_params = f.params.iter().map(|p| {
        let (outer, ty) = (&p.outer, &p.ty);
        quote!(#outer: #ty)
    });
    let asserts = f.params.iter().map(|p| {
        let ty = &p.ty;
        quote_spanned!(ty.span()=> #csp::process::__private::assert_send_static::<#ty>();)
    });
    let records = f.params.iter().map(|p| {
        let (outer, label) = (&p.outer, &p.label);
        let probe = probe(&csp, quote!(&#outer), &r, &p.ty);
        quote!(#rec.scope(#label, |#r| { #probe });)
    });
    let rebinds = f.params.iter().filter_map(|p| {
        let outer = &p.outer;
        p.inner.as_ref().map(|pat| quote!(let #pat = #outer;))
    });
    let (result_ty, run_body) = run_body(f, &csp);

    quote! {
        #(#attrs)*
        #vis fn #ident #generics (#(#outer_params),*) -> #csp::Process<#result_ty> #where_clause {
            #(#asserts)*
            let mut #rec = #csp::process::Recorder::new();
            {
                #[allow(unused_imports)]
                use #csp::process::__private::{RecordEnds as _, RequireEnds as _, SkipEnds as _};
                #(#records)*
            }
            #csp::process::__private::from_macro(#name, #rec, move || {
                #(#rebinds)*
                #[allow(clippy::redundant_closure_call, clippy::needless_return, unreachable_code)]
                {
                    #run_body
                }
            })#model
        }
    }
}

/// The process's result type, and the code that runs the body and turns its value into
/// `Result<R, BoxError>`. The body runs in a non-`move` closure: the parameters it does
/// not consume stay alive until its value is settled, so that on an error they are
/// dropped as a failing process's ends (poisoned, not retired).
fn run_body(f: &ProcessFn, csp: &TokenStream) -> (TokenStream, TokenStream) {
    let body = &f.item.block;
    let (value, tag) = (hidden("__csp_value"), hidden("__csp_tag"));
    let private = quote!(#csp::process::__private);
    match &f.ret {
        Return::Unit => (quote!(()), quote!(::core::result::Result::Ok((|| #body)()))),
        Return::Result(ty) => {
            // A type that is not a `Result`, or whose error is not an `Error`, is reported
            // at the return type.
            let at_ty = respan(&private, ty.span());
            let value_at_ty = Ident::new("__csp_value", value.span().located_at(ty.span()));
            let settle = quote_spanned!(ty.span()=> #at_ty::settle(#value_at_ty));
            (
                quote_spanned!(ty.span()=> <#ty as #at_ty::ProcessResult>::Ok),
                quote! {
                    let #value = (|| -> #ty #body)();
                    #settle
                },
            )
        }
        Return::Value(ty) => {
            // Autoref specialisation: a `Result` under another name still fails on `Err`.
            let value_at_ty = Ident::new("__csp_value", value.span().located_at(ty.span()));
            let settle = quote_spanned!(ty.span()=> #tag.settle(#value_at_ty));
            (
                quote!(#ty),
                quote! {
                    let #value = (|| -> #ty #body)();
                    let #tag = {
                        #[allow(unused_imports)]
                        use #private::{ResultOutcome as _, ValueOutcome as _};
                        (&#private::Outcome(&#value)).__csp_outcome()
                    };
                    #settle
                },
            )
        }
    }
}
