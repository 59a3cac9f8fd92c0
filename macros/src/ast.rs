//! Pass 1: parse `#[process]`'s arguments and function into a small AST.

use proc_macro2::{Span, TokenStream};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, FnArg, ItemFn, Lit, Meta, Pat, Token, Type};

/// A function under `#[process]`.
pub struct ProcessFn {
    pub item: ItemFn,
    /// The process name: `name = "..."`, or the function's identifier.
    pub name: String,
    /// `model = "..."` (a CSPm template) or `model = path` (a generator function).
    pub model: Option<Expr>,
    pub params: Vec<Param>,
    /// Receivers (`self`), kept only to report them.
    pub receivers: Vec<Span>,
    pub ret: Return,
}

/// One parameter: how the outer function binds it and how the body sees it.
pub struct Param {
    /// The identifier the outer function uses.
    pub outer: syn::Ident,
    /// The pattern the body binds (the user's), when it differs from `outer`.
    pub inner: Option<Pat>,
    /// The path segment used when recording its ends (`a`, `arg2`).
    pub label: String,
    pub ty: Type,
}

/// What the function returns, read from its tokens.
pub enum Return {
    /// No return type: the process result is `()`.
    Unit,
    /// `-> T`: the process result is `T`.
    Value(Box<Type>),
    /// `-> Result<T, E>`: the process result is `T`; `E` becomes the failure.
    Result { ok: Box<Type>, full: Box<Type> },
}

impl ProcessFn {
    pub fn parse(args: TokenStream, item: TokenStream) -> syn::Result<ProcessFn> {
        let item: ItemFn = syn::parse2(item)
            .map_err(|e| syn::Error::new(e.span(), "#[process] applies to a free function"))?;
        let (name, model) = parse_args(args)?;
        let name = name.unwrap_or_else(|| item.sig.ident.to_string());
        let mut params = Vec::new();
        let mut receivers = Vec::new();
        for (i, input) in item.sig.inputs.iter().enumerate() {
            match input {
                FnArg::Receiver(r) => receivers.push(syn::spanned::Spanned::span(r)),
                FnArg::Typed(pt) => params.push(Param::new(i, &pt.pat, &pt.ty)),
            }
        }
        let ret = match &item.sig.output {
            syn::ReturnType::Default => Return::Unit,
            syn::ReturnType::Type(_, ty) => match result_ok_type(ty) {
                Some(ok) => Return::Result {
                    ok: Box::new(ok),
                    full: ty.clone(),
                },
                None => Return::Value(ty.clone()),
            },
        };
        Ok(ProcessFn {
            item,
            name,
            model,
            params,
            receivers,
            ret,
        })
    }
}

impl Param {
    fn new(i: usize, pat: &Pat, ty: &Type) -> Param {
        match pat {
            // `x` or `mut x`: the outer function binds `x`; the body re-binds `mut x`.
            Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => Param {
                outer: p.ident.clone(),
                inner: p.mutability.is_some().then(|| pat.clone()),
                label: p.ident.to_string().trim_start_matches("r#").to_string(),
                ty: ty.clone(),
            },
            _ => Param {
                outer: syn::Ident::new(&format!("__csp_arg{i}"), Span::call_site()),
                inner: Some(pat.clone()),
                label: format!("arg{i}"),
                ty: ty.clone(),
            },
        }
    }
}

/// `name = "..."` and `model = "..."` / `model = path`; any other argument is an error
/// naming it.
fn parse_args(args: TokenStream) -> syn::Result<(Option<String>, Option<Expr>)> {
    let metas = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args)?;
    let mut name = None;
    let mut model = None;
    let mut errors: Option<syn::Error> = None;
    let mut push = |e: syn::Error| match &mut errors {
        Some(all) => all.combine(e),
        None => errors = Some(e),
    };
    for meta in metas {
        match &meta {
            Meta::NameValue(nv) if nv.path.is_ident("name") => match &nv.value {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(s), ..
                }) => name = Some(s.value()),
                other => push(syn::Error::new_spanned(
                    other,
                    "expected a string literal: `name = \"...\"`",
                )),
            },
            Meta::NameValue(nv) if nv.path.is_ident("model") => match &nv.value {
                v @ (Expr::Lit(ExprLit {
                    lit: Lit::Str(_), ..
                })
                | Expr::Path(_)) => model = Some(v.clone()),
                other => push(syn::Error::new_spanned(
                    other,
                    "expected a CSPm template string or a function path: `model = \"...\"`",
                )),
            },
            other => {
                let key = other
                    .path()
                    .get_ident()
                    .map(|i| i.to_string())
                    .unwrap_or_else(|| "?".into());
                push(syn::Error::new_spanned(
                    other.path(),
                    format!(
                        "unknown argument `{key}`; expected `name = \"...\"` or `model = \"...\"`"
                    ),
                ));
            }
        }
    }
    match errors {
        Some(e) => Err(e),
        None => Ok((name, model)),
    }
}

/// `Result<T, E>` (by its last path segment, as the macro sees tokens, not types) → `T`.
fn result_ok_type(ty: &Type) -> Option<Type> {
    let Type::Path(tp) = ty else { return None };
    let seg = tp.path.segments.last()?;
    if seg.ident != "Result" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &seg.arguments else {
        return None;
    };
    let mut types = args.args.iter().filter_map(|a| match a {
        syn::GenericArgument::Type(t) => Some(t.clone()),
        _ => None,
    });
    let ok = types.next()?;
    types.next()?; // `Result<T, E>`: an alias such as `io::Result<T>` is taken as a value
    Some(ok)
}
