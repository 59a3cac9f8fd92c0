//! `alt!`: Go's `select` statement for CSP guards. The arms' bodies run in the caller's
//! code, so they may use `?`, `return`, `break` and mutable state freely, and no guard
//! is boxed: the guards live on the stack.

/// Waits for the first of several guards and runs that arm (see [`Alt`](crate::Alt)
/// for the semantics). Evaluates to `Ok(value of the arm)`, or
/// `Err(`[`AltError`](crate::AltError)`)` if a guard's channel is poisoned or retired
/// (its `guard()` is the arm's number among the `recv`/`send`/`sync` arms) or every
/// guard is disabled.
///
/// Arms, each optionally with a precondition `if cond` before its `=>`:
///
/// - `recv(input) -> pattern => body`: read from an [`Input`](crate::Input);
/// - `send(output, value) => body`: write to an [`Output`](crate::Output);
/// - `sync(enrolled) => body`: a [`Barrier`](crate::Barrier) guard;
/// - `after(duration) => body` or `at(instant) => body`: the timeout (at most one);
/// - `default => body`: the skip (at most one).
///
/// Start with `pri:` for [`pri_select`](crate::Alt::pri_select) or `fair(&mut fair):`
/// for [`fair_select`](crate::Alt::fair_select); otherwise any ready arm is chosen.
/// Separate arms with commas (optional after a block body).
///
/// ```
/// use std::time::Duration;
/// use csp::{alt, Channel, Fair};
///
/// let (a_tx, a) = Channel::<u32>::new().fifo(8).one2one();
/// let (b_tx, b) = Channel::<&str>::local().fifo(8).one2one();
/// let (log_tx, log) = Channel::<String>::local().fifo(8).one2one();
/// a_tx.write(1)?;
/// b_tx.write("two")?;
///
/// let mut fair = Fair::new();
/// let mut seen = Vec::new();
/// let mut open = [true, true];
/// while open[0] || open[1] {
///     let step = alt! { fair(&mut fair):
///         recv(a) -> n if open[0] => { seen.push(n.to_string()); open[0] = false; }
///         recv(b) -> s if open[1] => { seen.push(s.to_string()); open[1] = false; }
///         after(Duration::from_secs(5)) => break,
///     };
///     step?; // a poisoned or retired guard would end the loop here
/// }
/// seen.sort();
/// assert_eq!(seen, ["1", "two"]);
///
/// // An output guard and a default: write only if that can happen now.
/// let sent = alt! { pri:
///     send(log_tx, "ready".to_string()) => true,
///     default => false,
/// }?;
/// assert!(sent);
/// assert_eq!(log.read()?, "ready");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[macro_export]
macro_rules! alt {
    (pri: $($arms:tt)*) => {
        $crate::__alt_arms!(
            mode [$crate::alt::__private::Mode::Pri] n [0] guards [] timeout [] default []
            rest [$($arms)*]
        )
    };
    (fair($fair:expr): $($arms:tt)*) => {
        $crate::__alt_arms!(
            mode [$crate::alt::__private::Mode::Fair($fair)] n [0] guards [] timeout []
            default [] rest [$($arms)*]
        )
    };
    ($($arms:tt)*) => {
        $crate::__alt_arms!(
            mode [$crate::alt::__private::Mode::Any] n [0] guards [] timeout [] default []
            rest [$($arms)*]
        )
    };
}

/// Parses `alt!` arms one at a time into guards (each with a fresh variable, its
/// number, precondition, pattern and body), the timeout and the default.
#[doc(hidden)]
#[macro_export]
macro_rules! __alt_arms {
    // A comma between arms.
    (mode $m:tt n $n:tt guards $g:tt timeout $t:tt default $d:tt rest [, $($rest:tt)*]) => {
        $crate::__alt_arms!(mode $m n $n guards $g timeout $t default $d rest [$($rest)*])
    };
    // recv(input) -> pattern [if cond] => body
    (mode $m:tt n [$($n:tt)*] guards [$($g:tt)*] timeout $t:tt default $d:tt
     rest [recv($r:expr) -> $p:pat $(if $c:expr)? => $body:block $($rest:tt)*]) => {
        $crate::__alt_arms!(mode $m n [$($n)* + 1]
            guards [$($g)* (input __alt_guard ($($n)*) ($r) ($($c)?) ($p) $body)]
            timeout $t default $d rest [$($rest)*])
    };
    (mode $m:tt n [$($n:tt)*] guards [$($g:tt)*] timeout $t:tt default $d:tt
     rest [recv($r:expr) -> $p:pat $(if $c:expr)? => $body:expr $(, $($rest:tt)*)?]) => {
        $crate::__alt_arms!(mode $m n [$($n)* + 1]
            guards [$($g)* (input __alt_guard ($($n)*) ($r) ($($c)?) ($p) $body)]
            timeout $t default $d rest [$($($rest)*)?])
    };
    // send(output, value) [if cond] => body
    (mode $m:tt n [$($n:tt)*] guards [$($g:tt)*] timeout $t:tt default $d:tt
     rest [send($s:expr, $v:expr) $(if $c:expr)? => $body:block $($rest:tt)*]) => {
        $crate::__alt_arms!(mode $m n [$($n)* + 1]
            guards [$($g)* (output __alt_guard ($($n)*) ($s, $v) ($($c)?) (_) $body)]
            timeout $t default $d rest [$($rest)*])
    };
    (mode $m:tt n [$($n:tt)*] guards [$($g:tt)*] timeout $t:tt default $d:tt
     rest [send($s:expr, $v:expr) $(if $c:expr)? => $body:expr $(, $($rest:tt)*)?]) => {
        $crate::__alt_arms!(mode $m n [$($n)* + 1]
            guards [$($g)* (output __alt_guard ($($n)*) ($s, $v) ($($c)?) (_) $body)]
            timeout $t default $d rest [$($($rest)*)?])
    };
    // sync(enrolled) [if cond] => body
    (mode $m:tt n [$($n:tt)*] guards [$($g:tt)*] timeout $t:tt default $d:tt
     rest [sync($b:expr) $(if $c:expr)? => $body:block $($rest:tt)*]) => {
        $crate::__alt_arms!(mode $m n [$($n)* + 1]
            guards [$($g)* (barrier __alt_guard ($($n)*) ($b) ($($c)?) (_) $body)]
            timeout $t default $d rest [$($rest)*])
    };
    (mode $m:tt n [$($n:tt)*] guards [$($g:tt)*] timeout $t:tt default $d:tt
     rest [sync($b:expr) $(if $c:expr)? => $body:expr $(, $($rest:tt)*)?]) => {
        $crate::__alt_arms!(mode $m n [$($n)* + 1]
            guards [$($g)* (barrier __alt_guard ($($n)*) ($b) ($($c)?) (_) $body)]
            timeout $t default $d rest [$($($rest)*)?])
    };
    // after(duration) / at(instant) [if cond] => body
    (mode $m:tt n $n:tt guards $g:tt timeout [] default $d:tt
     rest [after($dur:expr) $(if $c:expr)? => $body:block $($rest:tt)*]) => {
        $crate::__alt_arms!(mode $m n $n guards $g
            timeout [($crate::Timer::after($dur)) ($($c)?) $body] default $d rest [$($rest)*])
    };
    (mode $m:tt n $n:tt guards $g:tt timeout [] default $d:tt
     rest [after($dur:expr) $(if $c:expr)? => $body:expr $(, $($rest:tt)*)?]) => {
        $crate::__alt_arms!(mode $m n $n guards $g
            timeout [($crate::Timer::after($dur)) ($($c)?) $body] default $d
            rest [$($($rest)*)?])
    };
    (mode $m:tt n $n:tt guards $g:tt timeout [] default $d:tt
     rest [at($at:expr) $(if $c:expr)? => $body:block $($rest:tt)*]) => {
        $crate::__alt_arms!(mode $m n $n guards $g timeout [($at) ($($c)?) $body]
            default $d rest [$($rest)*])
    };
    (mode $m:tt n $n:tt guards $g:tt timeout [] default $d:tt
     rest [at($at:expr) $(if $c:expr)? => $body:expr $(, $($rest:tt)*)?]) => {
        $crate::__alt_arms!(mode $m n $n guards $g timeout [($at) ($($c)?) $body]
            default $d rest [$($($rest)*)?])
    };
    (mode $m:tt n $n:tt guards $g:tt timeout [$($t:tt)+] default $d:tt
     rest [after $($rest:tt)*]) => {
        ::core::compile_error!("alt!: at most one `after` or `at` arm")
    };
    (mode $m:tt n $n:tt guards $g:tt timeout [$($t:tt)+] default $d:tt
     rest [at $($rest:tt)*]) => {
        ::core::compile_error!("alt!: at most one `after` or `at` arm")
    };
    // default [if cond] => body
    (mode $m:tt n $n:tt guards $g:tt timeout $t:tt default []
     rest [default $(if $c:expr)? => $body:block $($rest:tt)*]) => {
        $crate::__alt_arms!(mode $m n $n guards $g timeout $t default [($($c)?) $body]
            rest [$($rest)*])
    };
    (mode $m:tt n $n:tt guards $g:tt timeout $t:tt default []
     rest [default $(if $c:expr)? => $body:expr $(, $($rest:tt)*)?]) => {
        $crate::__alt_arms!(mode $m n $n guards $g timeout $t default [($($c)?) $body]
            rest [$($($rest)*)?])
    };
    (mode $m:tt n $n:tt guards $g:tt timeout $t:tt default [$($d:tt)+]
     rest [default $($rest:tt)*]) => {
        ::core::compile_error!("alt!: at most one `default` arm")
    };
    // Every arm parsed.
    (mode [$mode:expr] n $n:tt
     guards [$(($kind:ident $var:ident ($($idx:tt)*) ($($args:tt)*) ($($c:expr)?) ($p:pat) $body:expr))*]
     timeout [$(($at:expr) ($($tc:expr)?) $tbody:expr)?]
     default [$(($($dc:expr)?) $dbody:expr)?]
     rest []) => {{
        $( let mut $var = $crate::__alt_new!($kind $($args)*); )*
        let __alt_pick = {
            let mut __alt_slots = [
                $( $crate::alt::__private::$kind(&mut $var, $crate::__alt_cond!($($c)?)), )*
            ];
            let __alt_timeout: ::core::option::Option<::std::time::Instant> = None;
            $(
                let __alt_timeout = if $crate::__alt_cond!($($tc)?) {
                    ::core::option::Option::Some($at)
                } else {
                    __alt_timeout
                };
            )?
            let __alt_skip = false;
            $( let __alt_skip = $crate::__alt_cond!($($dc)?); )?
            $crate::alt::__private::select(&mut __alt_slots, $mode, __alt_timeout, __alt_skip)
        };
        match __alt_pick {
            ::core::result::Result::Err(e) => ::core::result::Result::Err(e),
            ::core::result::Result::Ok(__alt_pick) => ::core::result::Result::Ok({
                $(
                    if __alt_pick == $crate::alt::__private::Pick::Guard($($idx)*) {
                        $crate::__alt_bind!($kind $var ($p) $body)
                    } else
                )*
                $( if __alt_pick == $crate::alt::__private::Pick::Timeout { $tbody } else )?
                $( if __alt_pick == $crate::alt::__private::Pick::Skip { $dbody } else )?
                { ::core::unreachable!("alt!: the engine chose an arm that does not exist") }
            }),
        }
    }};
    // Anything else is not an arm.
    (mode $m:tt n $n:tt guards $g:tt timeout $t:tt default $d:tt rest [$($rest:tt)+]) => {
        ::core::compile_error!(::core::concat!(
            "alt!: expected an arm `recv(input) -> pattern => ...`, `send(output, value) => ...`, ",
            "`sync(enrolled) => ...`, `after(duration) => ...`, `at(instant) => ...` or ",
            "`default => ...`, found: `", ::core::stringify!($($rest)+), "`"
        ))
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __alt_new {
    (input $r:expr) => {
        $crate::alt::__private::InputSlot::new(&$r)
    };
    (output $s:expr, $v:expr) => {
        $crate::alt::__private::OutputSlot::new(&$s, $v)
    };
    (barrier $b:expr) => {
        $crate::alt::__private::BarrierSlot::new(&$b)
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __alt_bind {
    (input $var:ident ($p:pat) $body:expr) => {{
        let $p = $var.take();
        $body
    }};
    ($other:ident $var:ident ($p:pat) $body:expr) => {{
        $body
    }};
}

#[doc(hidden)]
#[macro_export]
macro_rules! __alt_cond {
    () => {
        true
    };
    ($c:expr) => {
        $c
    };
}
