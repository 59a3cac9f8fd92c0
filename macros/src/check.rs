//! Pass 2: everything `#[process]` can see is wrong, collected with spans.

use syn::spanned::Spanned;
use syn::visit::{self, Visit};

use crate::ast::{Errors, ProcessFn, Return};

/// Adds every error of `f` to `errors`.
pub fn process_fn(f: &ProcessFn, errors: &mut Errors) {
    let sig = &f.item.sig;
    if let Some(t) = &sig.asyncness {
        errors.at(
            t.span(),
            "a process cannot be `async`: its body runs on its own thread; use blocking \
             channel operations",
        );
    }
    if let Some(t) = &sig.constness {
        errors.at(t.span(), "a process cannot be a `const fn`");
    }
    if let Some(t) = &sig.unsafety {
        errors.at(
            t.span(),
            "a process cannot be an `unsafe fn`: put the unsafe block inside its body",
        );
    }
    if let Some(abi) = &sig.abi {
        errors.at(abi.span(), "a process cannot have an `extern` ABI");
    }
    if let Some(v) = &sig.variadic {
        errors.at(v.span(), "a process cannot be variadic");
    }
    for span in &f.receivers {
        errors.at(*span, "a process is a free function: it cannot take `self`");
    }
    for param in &sig.generics.params {
        if let syn::GenericParam::Lifetime(l) = param {
            errors.at(
                l.lifetime.span(),
                "a process cannot have lifetime parameters: it may outlive the caller; \
                 pass owned values (use `ScopedProcess` for a process that borrows)",
            );
        }
    }
    for p in &f.params {
        let mut finder = Borrows::default();
        finder.visit_type(&p.ty);
        for (span, msg) in finder.found {
            errors.at(span, msg);
        }
    }
    let ret_ty = match &f.ret {
        Return::Unit => None,
        Return::Value(t) | Return::Result(t) => Some(t),
    };
    if let Some(t) = ret_ty {
        let mut finder = Borrows::default();
        finder.visit_type(t);
        for (span, msg) in finder.found {
            if msg.starts_with("`impl Trait`") {
                errors.at(span, "a process cannot return `impl Trait`: name the type");
            }
        }
    }
}

/// Finds what makes a parameter type unable to move into a process: non-`'static`
/// references and lifetimes, `impl Trait`.
#[derive(Default)]
struct Borrows {
    found: Vec<(proc_macro2::Span, &'static str)>,
}

const BORROW: &str = "a process parameter cannot borrow: the process may outlive the caller; \
                      pass an owned value (use `ScopedProcess` for a process that borrows)";

impl<'ast> Visit<'ast> for Borrows {
    fn visit_type_reference(&mut self, r: &'ast syn::TypeReference) {
        // `&'static T` lives forever: as good as owned (e.g. `&'static str` names).
        if r.lifetime.as_ref().is_some_and(|l| l.ident == "static") {
            self.visit_type(&r.elem);
            return;
        }
        self.found.push((r.and_token.span(), BORROW));
        // The reference already explains its own lifetime: only look at what it points to.
        self.visit_type(&r.elem);
    }

    fn visit_lifetime(&mut self, l: &'ast syn::Lifetime) {
        if l.ident != "static" {
            self.found.push((l.span(), BORROW));
        }
    }

    fn visit_type_impl_trait(&mut self, t: &'ast syn::TypeImplTrait) {
        self.found.push((
            t.impl_token.span(),
            "`impl Trait` parameters are not supported in a process; use a named generic \
             parameter",
        ));
        visit::visit_type_impl_trait(self, t);
    }
}
