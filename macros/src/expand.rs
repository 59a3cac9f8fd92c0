//! Pass 3: generate the process constructor and the `Ends` impls.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use crate::ast::{ProcessFn, Return};

/// The function, now returning `::csp::Process<T>`: it records the ends of its
/// parameters and moves them into the body's closure.
pub fn process_fn(f: &ProcessFn) -> TokenStream {
    let item = &f.item;
    let attrs = &item.attrs;
    let vis = &item.vis;
    let ident = &item.sig.ident;
    let generics = &item.sig.generics;
    let where_clause = &generics.where_clause;
    let name = &f.name;
    let body = &item.block;
    let model = match &f.model {
        Some(syn::Expr::Lit(lit)) => {
            quote!(.with_model(::csp::process::Model::template(#lit)))
        }
        Some(path) => quote!(.with_model(::csp::process::Model::generated(#path))),
        None => quote!(),
    };

    let outer_params = f.params.iter().map(|p| {
        let (outer, ty) = (&p.outer, &p.ty);
        quote!(#outer: #ty)
    });
    let asserts = f.params.iter().map(|p| {
        let ty = &p.ty;
        quote_spanned!(ty.span()=> ::csp::process::__private::assert_send_static::<#ty>();)
    });
    let records = f.params.iter().map(|p| {
        let (outer, label) = (&p.outer, &p.label);
        quote! {
            __csp_rec.scope(#label, |__csp_r| {
                (&::csp::process::__private::Probe(&#outer)).__csp_record(__csp_r)
            });
        }
    });
    let rebinds = f.params.iter().filter_map(|p| {
        let outer = &p.outer;
        p.inner.as_ref().map(|pat| quote!(let #pat = #outer;))
    });

    let (result_ty, run_body) = match &f.ret {
        Return::Unit => (
            quote!(()),
            quote! {
                ::core::result::Result::Ok((move || #body)())
            },
        ),
        Return::Value(ty) => (
            quote!(#ty),
            quote! {
                ::core::result::Result::Ok((move || -> #ty #body)())
            },
        ),
        Return::Result { ok, full } => {
            // An error type that is not an `Error` is reported at the return type.
            let box_error = quote_spanned!(full.span()=> ::csp::process::__private::box_error);
            // The body runs in a non-`move` closure: the parameters it does not consume
            // stay alive here until its result is known, so that on an error they are
            // dropped as a failing process's ends (poisoned, not retired).
            (
                quote!(#ok),
                quote! {{
                    let __csp_result = (|| -> #full #body)();
                    ::csp::process::__private::settle(&__csp_result);
                    __csp_result.map_err(#box_error)
                }},
            )
        }
    };

    quote! {
        #(#attrs)*
        #vis fn #ident #generics (#(#outer_params),*) -> ::csp::Process<#result_ty> #where_clause {
            #(#asserts)*
            let mut __csp_rec = ::csp::process::Recorder::new();
            {
                #[allow(unused_imports)]
                use ::csp::process::__private::{RecordEnds as _, SkipEnds as _};
                #(#records)*
            }
            ::csp::process::__private::from_macro(#name, __csp_rec, move || {
                #(#rebinds)*
                #[allow(clippy::redundant_closure_call, clippy::needless_return, unreachable_code)]
                {
                    #run_body
                }
            })#model
        }
    }
}

/// `impl Ends` recording every field (non-end fields record nothing).
pub fn derive_ends(input: &syn::DeriveInput) -> syn::Result<TokenStream> {
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let record = |access: TokenStream, label: String| {
        quote! {
            __csp_rec.scope(#label, |__csp_r| {
                (&::csp::process::__private::Probe(#access)).__csp_record(__csp_r)
            });
        }
    };
    let body = match &input.data {
        syn::Data::Struct(s) => {
            let fields = s
                .fields
                .iter()
                .enumerate()
                .map(|(i, field)| match &field.ident {
                    Some(name) => record(quote!(&self.#name), name.to_string()),
                    None => {
                        let index = syn::Index::from(i);
                        record(quote!(&self.#index), i.to_string())
                    }
                });
            quote!(#(#fields)*)
        }
        syn::Data::Enum(e) => {
            let arms = e.variants.iter().map(|v| {
                let vname = &v.ident;
                let bindings: Vec<_> = (0..v.fields.len())
                    .map(|i| format_ident!("__csp_f{}", i))
                    .collect();
                let recs = v
                    .fields
                    .iter()
                    .zip(&bindings)
                    .enumerate()
                    .map(|(i, (f, b))| {
                        let label = match &f.ident {
                            Some(n) => format!("{vname}.{n}"),
                            None => format!("{vname}.{i}"),
                        };
                        record(quote!(#b), label)
                    });
                let pattern = match &v.fields {
                    syn::Fields::Named(named) => {
                        let names = named.named.iter().map(|f| &f.ident);
                        quote!(Self::#vname { #(#names: #bindings),* })
                    }
                    syn::Fields::Unnamed(_) => quote!(Self::#vname(#(#bindings),*)),
                    syn::Fields::Unit => quote!(Self::#vname),
                };
                quote!(#pattern => { #(#recs)* })
            });
            quote! {
                #[allow(unreachable_patterns)]
                match self { #(#arms)* _ => {} }
            }
        }
        syn::Data::Union(u) => {
            return Err(syn::Error::new(
                u.union_token.span(),
                "`Ends` cannot be derived for a union: the active field is unknown",
            ))
        }
    };
    Ok(quote! {
        impl #impl_generics ::csp::process::Ends for #ident #ty_generics #where_clause {
            fn record_ends(&self, __csp_rec: &mut ::csp::process::Recorder) {
                #[allow(unused_imports)]
                use ::csp::process::__private::{RecordEnds as _, SkipEnds as _};
                #body
            }
        }
    })
}
