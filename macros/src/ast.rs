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
    /// `crate = path`: where the `csp` crate is, when the macro cannot find it.
    pub krate: Option<syn::Path>,
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

/// What the function returns. Only the *shape* of the process's result type is read from
/// tokens; whether a value is an error is decided by its type (`csp`'s `outcome.rs`).
pub enum Return {
    /// No return type: the process result is `()`.
    Unit,
    /// `-> T`: the process result is `T` (an `Err` still fails it if `T` is a `Result`).
    Value(Box<Type>),
    /// A type named `Result` (`Result<T, E>`, `io::Result<T>`, an alias): the process
    /// result is its `Ok` type, computed by the compiler.
    Result(Box<Type>),
}

impl ProcessFn {
    /// Parses the function; argument errors go to `errors` (the function is still
    /// parsed, so its own errors are reported too). Only a non-function is fatal.
    pub fn parse(
        args: TokenStream,
        item: TokenStream,
        errors: &mut Errors,
    ) -> syn::Result<ProcessFn> {
        let item: ItemFn = syn::parse2(item)
            .map_err(|e| syn::Error::new(e.span(), "#[process] applies to a free function"))?;
        let args = parse_args(args, errors);
        let name = args.name.unwrap_or_else(|| item.sig.ident.to_string());
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
            syn::ReturnType::Type(_, ty) if named_result(ty) => Return::Result(ty.clone()),
            syn::ReturnType::Type(_, ty) => Return::Value(ty.clone()),
        };
        Ok(ProcessFn {
            item,
            name,
            model: args.model,
            krate: args.krate,
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
                outer: syn::Ident::new(&format!("__csp_arg{i}"), Span::mixed_site()),
                inner: Some(pat.clone()),
                label: format!("arg{i}"),
                ty: ty.clone(),
            },
        }
    }
}

/// Errors collected across the passes, each with its span.
#[derive(Default)]
pub struct Errors(Option<syn::Error>);

impl Errors {
    pub fn push(&mut self, e: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(e),
            None => self.0 = Some(e),
        }
    }

    pub fn at(&mut self, span: Span, msg: &str) {
        self.push(syn::Error::new(span, msg));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    pub fn into_compile_errors(self) -> proc_macro2::TokenStream {
        self.0.map(|e| e.into_compile_error()).unwrap_or_default()
    }

    pub fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}

#[derive(Default)]
struct Args {
    name: Option<String>,
    model: Option<Expr>,
    krate: Option<syn::Path>,
}

const EXPECTED: &str = "expected `name = \"...\"`, `model = \"...\"` or `crate = path`";

/// `name = "..."`, `model = "..."` / `model = path` and `crate = path`; every malformed
/// or unknown argument is an error of its own.
fn parse_args(args: TokenStream, errors: &mut Errors) -> Args {
    let mut out = Args::default();
    let metas = match Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args) {
        Ok(metas) => metas,
        Err(e) => {
            errors.push(e);
            return out;
        }
    };
    for meta in metas {
        match &meta {
            Meta::NameValue(nv) if nv.path.is_ident("name") => match &nv.value {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(s), ..
                }) => out.name = Some(s.value()),
                other => errors.push(syn::Error::new_spanned(
                    other,
                    "expected a string literal: `name = \"...\"`",
                )),
            },
            Meta::NameValue(nv) if nv.path.is_ident("model") => match &nv.value {
                v @ (Expr::Lit(ExprLit {
                    lit: Lit::Str(_), ..
                })
                | Expr::Path(_)) => out.model = Some(v.clone()),
                other => errors.push(syn::Error::new_spanned(
                    other,
                    "expected a CSPm template string or a function path: `model = \"...\"`",
                )),
            },
            Meta::NameValue(nv) if nv.path.is_ident("crate") => match crate_path(&nv.value) {
                Ok(path) => out.krate = Some(path),
                Err(e) => errors.push(e),
            },
            other => {
                let key = other
                    .path()
                    .get_ident()
                    .map(|i| i.to_string())
                    .unwrap_or_else(|| "?".into());
                errors.push(syn::Error::new_spanned(
                    other.path(),
                    format!("unknown argument `{key}`; {EXPECTED}"),
                ));
            }
        }
    }
    out
}

/// `crate = path` or, as serde writes it, `crate = "path"`.
pub fn crate_path(value: &Expr) -> syn::Result<syn::Path> {
    match value {
        Expr::Path(p) if p.qself.is_none() => Ok(p.path.clone()),
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => s.parse(),
        other => Err(syn::Error::new_spanned(
            other,
            "expected the path of the `csp` crate: `crate = my_csp`",
        )),
    }
}

/// Whether the type is spelled `...Result` or `...Result<...>`: `Result<T, E>`,
/// `io::Result<T>`, `fmt::Result`, an alias. Whether it *is* a `Result` the compiler
/// checks.
fn named_result(ty: &Type) -> bool {
    match ty {
        Type::Path(tp) if tp.qself.is_none() => {
            tp.path.segments.last().is_some_and(|s| s.ident == "Result")
        }
        Type::Group(g) => named_result(&g.elem),
        Type::Paren(p) => named_result(&p.elem),
        _ => false,
    }
}
