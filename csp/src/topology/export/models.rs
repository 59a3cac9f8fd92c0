//! CSPm models of the components in `csp::components`: what `#[process(model = ...)]`
//! on each of them points at.

use crate::process::ModelContext;

fn me(c: &ModelContext) -> &str {
    c.name()
}

pub(crate) fn id(c: &ModelContext) -> String {
    format!(
        "{0} = {1}?x -> {2}!x -> {0}",
        me(c),
        c.channel("input"),
        c.channel("output")
    )
}

pub(crate) fn prefix(c: &ModelContext) -> String {
    format!(
        "{0} = |~| v : T @ {2}!v -> {0}_COPY\n{0}_COPY = {1}?x -> {2}!x -> {0}_COPY",
        me(c),
        c.channel("input"),
        c.channel("output")
    )
}

pub(crate) fn tail(c: &ModelContext) -> String {
    format!(
        "{0} = {1}?_ -> {0}_COPY\n{0}_COPY = {1}?x -> {2}!x -> {0}_COPY",
        me(c),
        c.channel("input"),
        c.channel("output")
    )
}

pub(crate) fn succ(c: &ModelContext) -> String {
    format!(
        "{0} = {1}?x -> {2}!((x + 1) % K) -> {0}",
        me(c),
        c.channel("input"),
        c.channel("output")
    )
}

pub(crate) fn map(c: &ModelContext) -> String {
    format!(
        "-- the function is abstracted: any value may come out\n\
         {0} = {1}?x -> (|~| y : T @ {2}!y -> {0})",
        me(c),
        c.channel("input"),
        c.channel("output")
    )
}

pub(crate) fn filter(c: &ModelContext) -> String {
    format!(
        "-- the predicate is abstracted: a value is passed on or dropped\n\
         {0} = {1}?x -> ({2}!x -> {0} |~| {0})",
        me(c),
        c.channel("input"),
        c.channel("output")
    )
}

pub(crate) fn generate(c: &ModelContext) -> String {
    format!("{0} = |~| v : T @ {1}!v -> {0}", me(c), c.channel("output"))
}

pub(crate) fn sink(c: &ModelContext) -> String {
    format!("{0} = {1}?_ -> {0}", me(c), c.channel("input"))
}

pub(crate) fn delta(c: &ModelContext) -> String {
    let outs: String = c
        .channels("outputs")
        .iter()
        .map(|o| format!("{o}!x -> "))
        .collect();
    format!("{0} = {1}?x -> {outs}{0}", me(c), c.channel("input"))
}

pub(crate) fn delta_par(c: &ModelContext) -> String {
    let outs: Vec<String> = c
        .channels("outputs")
        .iter()
        .map(|o| format!("{o}!x -> SKIP"))
        .collect();
    let outs = if outs.is_empty() {
        "SKIP".to_string()
    } else {
        format!("({})", outs.join(" ||| "))
    };
    format!("{0} = {1}?x -> {outs}; {0}", me(c), c.channel("input"))
}

pub(crate) fn merge(c: &ModelContext) -> String {
    let out = c.channel("output");
    let arms: Vec<String> = c
        .channels("inputs")
        .iter()
        .map(|i| format!("({i}?x -> {out}!x -> {})", me(c)))
        .collect();
    let body = if arms.is_empty() {
        "STOP".to_string()
    } else {
        arms.join(" [] ")
    };
    format!("{} = {body}", me(c))
}

pub(crate) fn plex(c: &ModelContext) -> String {
    format!(
        "-- the input's index that tags each value is abstracted\n{}",
        merge(c)
    )
}
