//! Where there is no shared-memory flavour (not Linux): a stand-in with its interface
//! that refuses to make a channel, so that a forked placement is a clear error.

// The stand-in mirrors the Linux interface field for field; nothing ever builds most of
// it, since `create` refuses.
#![allow(dead_code)]

use std::cmp::Ordering;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;

use super::Side;

#[derive(Clone, Copy, Debug)]
pub(crate) enum Mode {
    Fifo,
    OverwriteOldest,
    DropNewest,
    Unbounded,
    Priority,
}

#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) capacity: usize,
    pub(crate) mode: Mode,
    pub(crate) max_frame: usize,
    pub(crate) max_waiters: usize,
    pub(crate) open: [usize; 2],
    pub(crate) one_to_one: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            capacity: 0,
            mode: Mode::Fifo,
            max_frame: crate::channel::DEFAULT_MAX_FRAME,
            max_waiters: 64,
            open: [1, 1],
            one_to_one: false,
        }
    }
}

pub(crate) enum Wait {
    Try,
    Forever,
    Until(Instant),
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum Gone {
    Writers,
    Readers,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum SharedError {
    #[error("poisoned")]
    Poisoned,
    #[error("retired")]
    Retired(Gone),
    #[error("lost in a failed extended block")]
    Lost,
    #[error("timed out")]
    Timeout,
    #[error("full")]
    Full,
    #[error("empty")]
    Empty,
    #[error("a frame of {len} bytes exceeds the limit of {limit}")]
    TooLarge { len: usize, limit: usize },
    #[error("malformed frame")]
    Frame(Infallible),
    #[error("channels between OS processes need Linux")]
    Unsupported,
}

/// How a priority channel orders two frames (it decodes them).
pub(crate) type FrameOrder = Arc<dyn Fn(&[u8], &[u8]) -> Ordering + Send + Sync>;

pub(crate) struct Held(Infallible);

impl Held {
    pub(crate) fn release(self, _completed: bool) {
        match self.0 {}
    }
}

pub(crate) struct SharedChannel(Infallible);

impl SharedChannel {
    pub(crate) fn create(_config: Config) -> Result<SharedChannel, SharedError> {
        Err(SharedError::Unsupported)
    }
    pub(crate) fn set_order(&mut self, _order: FrameOrder) {
        match self.0 {}
    }
    pub(crate) fn write(&self, _end: u64, _frame: &[u8], _wait: Wait) -> Result<(), SharedError> {
        match self.0 {}
    }
    pub(crate) fn read(&self, _end: u64, _wait: Wait) -> Result<Vec<u8>, SharedError> {
        match self.0 {}
    }
    pub(crate) fn fast_write(
        &self,
        _wait: Wait,
        _encode: impl FnOnce(&mut [u8]) -> Option<usize>,
    ) -> bool {
        match self.0 {}
    }
    pub(crate) fn fast_read<R>(
        &self,
        _wait: Wait,
        _take: impl FnOnce(&[u8]) -> R,
    ) -> Option<Result<R, Infallible>> {
        match self.0 {}
    }
    pub(crate) fn read_extended(
        &self,
        _end: u64,
        _wait: Wait,
    ) -> Result<(Vec<u8>, Held), SharedError> {
        match self.0 {}
    }
    pub(crate) fn push_initial(&self, _frame: &[u8]) -> Result<(), SharedError> {
        match self.0 {}
    }
    pub(crate) fn claim(&self, _side: Side, _end: u64) -> Result<(), SharedError> {
        match self.0 {}
    }
    pub(crate) fn release_claim(&self, _side: Side, _end: u64) {
        match self.0 {}
    }
    pub(crate) fn retire(&self, _side: Side, _end: u64) {
        match self.0 {}
    }
    pub(crate) fn open_end(&self, _side: Side) {
        match self.0 {}
    }
    pub(crate) fn open_ends(&self, _side: Side) -> usize {
        match self.0 {}
    }
    pub(crate) fn poison(&self) {
        match self.0 {}
    }
    pub(crate) fn is_poisoned(&self) -> bool {
        match self.0 {}
    }
    pub(crate) fn len(&self) -> usize {
        match self.0 {}
    }
}

/// The stand-in barrier: `create` refuses, so no other method is ever reached.
#[derive(Clone)]
pub(crate) struct SharedBarrier(Infallible);

impl SharedBarrier {
    pub(crate) fn create(_enrolled: usize) -> std::io::Result<SharedBarrier> {
        Err(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            "barriers across OS processes need Linux",
        ))
    }
    pub(crate) fn enroll(&self) -> u32 {
        match self.0 {}
    }
    pub(crate) fn resign(&self, _home: &std::sync::atomic::AtomicU32) {
        match self.0 {}
    }
    pub(crate) fn enrolled(&self) -> usize {
        match self.0 {}
    }
    pub(crate) fn try_sync(&self, _home: &std::sync::atomic::AtomicU32) -> bool {
        match self.0 {}
    }
    pub(crate) fn sync(
        &self,
        _home: &std::sync::atomic::AtomicU32,
        _until: Option<Instant>,
    ) -> bool {
        match self.0 {}
    }
}
