//! Where the `csp` crate is, as seen from the crate being compiled.

use proc_macro2::{Ident, Span, TokenStream};
use proc_macro_crate::FoundCrate;
use quote::quote;

/// The path the expansion uses for `csp`: the `crate = path` override, else the name
/// under which the calling crate's `Cargo.toml` depends on `csp` (renamed or not).
pub fn csp_path(explicit: Option<&syn::Path>) -> TokenStream {
    if let Some(path) = explicit {
        return quote!(#path);
    }
    match proc_macro_crate::crate_name("csp") {
        Ok(FoundCrate::Name(name)) => {
            let ident = Ident::new(&name, Span::call_site());
            quote!(::#ident)
        }
        // Inside `csp`, `extern crate self as csp;` makes `::csp` valid, and `::csp` is
        // also what csp's doctests see (`crate` would name the doctest). A crate that
        // reaches csp only through another crate's re-export sets `crate = path`.
        Ok(FoundCrate::Itself) | Err(_) => quote!(::csp),
    }
}
