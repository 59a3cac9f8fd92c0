//! What the runtime and the topology layer know of a channel without its type.

use std::sync::Arc;

use super::core::{Core, Flavor};
use super::{ChannelError, Kind, Side};

/// What the runtime and the topology layer know of a channel without its type.
pub(crate) trait ChannelInfo: Send + Sync {
    fn id(&self) -> u64;
    fn name(&self) -> Arc<str>;
    fn derive_name(&self, name: &str);
    fn poison_channel(&self);
    fn kind(&self) -> Kind;
    /// The buffer policy as text: `rendezvous`, `fifo(8)`, ...
    fn policy(&self) -> Arc<str>;
    /// Whether values can cross OS processes (`Channel::new`, not `local`).
    fn can_cross(&self) -> bool;
    /// How many ends of `side` are open (not yet retired or dropped).
    fn open_ends(&self, side: Side) -> usize;
    /// Moves the channel's state into memory shared with OS processes forked after this
    /// call (the fork runtime calls it for every channel whose ends are placed in two OS
    /// processes, while the program is still single-threaded). Idempotent.
    #[allow(dead_code)] // called by the fork runtime
    fn make_shared(&self) -> Result<(), ChannelError>;
}

impl<T: Send + 'static> ChannelInfo for Core<T> {
    fn id(&self) -> u64 {
        Core::id(self)
    }
    fn name(&self) -> Arc<str> {
        Core::name(self)
    }
    fn derive_name(&self, name: &str) {
        Core::derive_name(self, name)
    }
    fn poison_channel(&self) {
        match self.flavor() {
            Flavor::Memory(core) => core.poison(),
            Flavor::Crossing(x) => x.poison(),
        }
    }
    fn kind(&self) -> Kind {
        Core::kind(self)
    }
    fn policy(&self) -> Arc<str> {
        Core::policy(self)
    }
    fn can_cross(&self) -> bool {
        self.codec().is_some()
    }
    fn open_ends(&self, side: Side) -> usize {
        match self.flavor() {
            Flavor::Memory(core) => core.open_ends(side),
            Flavor::Crossing(x) => x.open_ends(side),
        }
    }
    fn make_shared(&self) -> Result<(), ChannelError> {
        Core::make_shared(self)
    }
}
