//! `#[derive(Ends)]`: an `Ends` impl recording every field that holds ends.
//!
//! A field whose type does not mention a type parameter is probed, as `#[process]`
//! parameters are: it records if its type is `Ends`, else nothing. A field whose type
//! mentions one (`inner: E`, `outs: Vec<T>`) cannot be probed in the generic impl, so
//! the impl requires `FieldType: Ends` and records it directly; `#[ends(skip)]` on a
//! field that holds no ends (`label: T`) lifts that requirement. An instance that misses
//! the requirement is a compile error where it is used as a process parameter, thanks to
//! the `DerivedEnds` marker, rather than a silent "no ends".

use proc_macro2::TokenStream;
use quote::quote;
use syn::visit::Visit;

use crate::ast::{crate_path, Errors};
use crate::expand::{hidden, probe};
use crate::krate::csp_path;

/// The impls for `input`, or every error found in its `#[ends(...)]` attributes with a
/// fallback impl, so that the errors do not cascade into "`Ends` is not implemented".
pub fn derive_ends(input: &syn::DeriveInput) -> TokenStream {
    let mut errors = Errors::default();
    let krate = container_crate(&input.attrs, &mut errors);
    let csp = csp_path(krate.as_ref());
    let (body, bounds) = recording(input, &csp, &mut errors);
    match errors.finish() {
        Ok(()) => ends_impl(input, &csp, &body, bounds),
        Err(e) => fallback_impl(input, &csp, e),
    }
}

/// The body of `record_ends` (one scope per field that may hold ends), and the
/// `FieldType: Ends` bounds the fields that mention a type parameter need; errors of
/// `#[ends(...)]` attributes and unions go to `errors`.
fn recording(
    input: &syn::DeriveInput,
    csp: &TokenStream,
    errors: &mut Errors,
) -> (TokenStream, Vec<TokenStream>) {
    let type_params: Vec<_> = input.generics.type_params().map(|p| &p.ident).collect();
    let mut bounds = Vec::new();
    let mut record = |field: &syn::Field, access: TokenStream, label: String| {
        let (rec, r) = (hidden("__csp_rec"), hidden("__csp_r"));
        if field_skipped(field, errors) {
            return quote!();
        }
        let ty = &field.ty;
        if mentions(ty, &type_params) {
            bounds.push(quote!(#ty: #csp::process::Ends));
            quote!(#rec.scope(#label, |#r| #csp::process::Ends::record_ends(#access, #r));)
        } else {
            let probe = probe(csp, access, &r, ty);
            quote!(#rec.scope(#label, |#r| { #probe });)
        }
    };
    let body = match &input.data {
        syn::Data::Struct(s) => {
            let fields = s
                .fields
                .iter()
                .enumerate()
                .map(|(i, field)| match &field.ident {
                    Some(name) => record(field, quote!(&self.#name), name.to_string()),
                    None => {
                        let index = syn::Index::from(i);
                        record(field, quote!(&self.#index), i.to_string())
                    }
                });
            quote!(#(#fields)*)
        }
        syn::Data::Enum(e) => enum_body(e, &mut record),
        syn::Data::Union(u) => {
            errors.push(syn::Error::new(
                u.union_token.span,
                "`Ends` cannot be derived for a union: the active field is unknown",
            ));
            quote!()
        }
    };
    (body, bounds)
}

/// The `Ends` impl (with the `DerivedEnds` marker) recording `body`, under `bounds`.
fn ends_impl(
    input: &syn::DeriveInput,
    csp: &TokenStream,
    body: &TokenStream,
    bounds: Vec<TokenStream>,
) -> TokenStream {
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let marker = quote! {
        impl #impl_generics #csp::process::__private::DerivedEnds
            for #ident #ty_generics #where_clause {}
    };
    let mut generics = input.generics.clone();
    let predicates = &mut generics.make_where_clause().predicates;
    for bound in bounds {
        predicates.push(syn::parse_quote!(#bound));
    }
    let (_, _, where_clause) = generics.split_for_impl();
    let rec = hidden("__csp_rec");
    quote! {
        #marker
        impl #impl_generics #csp::process::Ends for #ident #ty_generics #where_clause {
            fn record_ends(&self, #rec: &mut #csp::process::Recorder) {
                #[allow(unused_imports)]
                use #csp::process::__private::{RecordEnds as _, RequireEnds as _, SkipEnds as _};
                #body
            }
        }
    }
}

/// The errors, and an `Ends` impl that records nothing, so that they do not cascade.
fn fallback_impl(input: &syn::DeriveInput, csp: &TokenStream, e: syn::Error) -> TokenStream {
    let err = e.into_compile_error();
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    quote! {
        #err
        impl #impl_generics #csp::process::Ends for #ident #ty_generics #where_clause {
            fn record_ends(&self, _: &mut #csp::process::Recorder) {}
        }
    }
}

/// A `match self` recording each variant's fields under `Variant.field`.
fn enum_body(
    e: &syn::DataEnum,
    record: &mut impl FnMut(&syn::Field, TokenStream, String) -> TokenStream,
) -> TokenStream {
    let arms = e.variants.iter().map(|v| {
        let vname = &v.ident;
        let bindings: Vec<_> = (0..v.fields.len())
            .map(|i| hidden(&format!("__csp_f{i}")))
            .collect();
        let recs: Vec<_> = v
            .fields
            .iter()
            .zip(&bindings)
            .enumerate()
            .map(|(i, (f, b))| {
                let label = match &f.ident {
                    Some(n) => format!("{vname}.{n}"),
                    None => format!("{vname}.{i}"),
                };
                record(f, quote!(#b), label)
            })
            .collect();
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
        #[allow(unreachable_patterns, unused_variables)]
        match self { #(#arms)* _ => {} }
    }
}

/// `#[ends(crate = path)]` on the type.
fn container_crate(attrs: &[syn::Attribute], errors: &mut Errors) -> Option<syn::Path> {
    let mut krate = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("ends")) {
        let parsed = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("crate") {
                krate = Some(crate_path(&meta.value()?.parse()?)?);
                Ok(())
            } else {
                Err(meta.error("expected `crate = path` on the type (`skip` goes on a field)"))
            }
        });
        if let Err(e) = parsed {
            errors.push(e);
        }
    }
    krate
}

/// Whether the field says `#[ends(skip)]`.
fn field_skipped(field: &syn::Field, errors: &mut Errors) -> bool {
    let mut skip = false;
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("ends")) {
        let parsed = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("skip") {
                skip = true;
                Ok(())
            } else {
                Err(meta.error("expected `skip` on a field (`crate = path` goes on the type)"))
            }
        });
        if let Err(e) = parsed {
            errors.push(e);
        }
    }
    skip
}

/// Whether `ty` names one of `params` (`T`, `Vec<T>`, `T::Item`).
fn mentions(ty: &syn::Type, params: &[&syn::Ident]) -> bool {
    struct Finder<'p> {
        params: &'p [&'p syn::Ident],
        found: bool,
    }
    impl<'ast> Visit<'ast> for Finder<'_> {
        fn visit_type_path(&mut self, tp: &'ast syn::TypePath) {
            let first = tp.path.segments.first().map(|s| &s.ident);
            if tp.qself.is_none()
                && tp.path.leading_colon.is_none()
                && first.is_some_and(|i| self.params.contains(&i))
            {
                self.found = true;
            }
            syn::visit::visit_type_path(self, tp);
        }
    }
    let mut finder = Finder {
        params,
        found: false,
    };
    finder.visit_type(ty);
    finder.found
}
