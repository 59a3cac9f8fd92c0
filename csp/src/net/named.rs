//! Named channels between unrelated programs: Python's `os.mkfifo`, typed, with
//! rendezvous, poison and retire.
//!
//! One program *listens* at a path (a Unix-domain socket file appears there), another
//! *connects* to the same path; each gets one typed end. As in JCSP's net2 (`net2one`
//! listens, `one2net` connects) the listener reads by default: [`listen`] gives a
//! [`NetInput`], [`connect`] a [`NetOutput`]. The other direction is
//! [`Named::listen_writer`] with [`connect_reader`].
//!
//! | Python | here |
//! |---|---|
//! | `os.mkfifo(path)`; `open(path, 'r')` | `let rx = named::listen::<T>(path)?;` |
//! | `open(path, 'w').write(msg)` | `named::connect::<T>(path)?.write(msg)?` |
//! | `f.read()` until end of file | `for v in rx.iter()` (ends when the writer retires) |
//! | `f.close()` | drop the end (retire), or `poison()` to abort |
//!
//! ```
//! # let dir = std::env::temp_dir().join(format!("csp-doc-named-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir)?;
//! use csp::net::named;
//!
//! let path = dir.join("greetings");
//! let rx = named::listen::<String>(&path)?; // the socket file is there from now on
//! let other_program = std::thread::spawn({
//!     let path = path.clone();
//!     move || -> Result<(), csp::BoxError> {
//!         let tx = named::connect::<String>(&path)?;
//!         tx.write("Hello, receiver!".to_string())?; // returns once the reader took it
//!         Ok(())
//!     }
//! });
//! assert_eq!(rx.read()?, "Hello, receiver!");
//! other_program.join().unwrap()?;
//! drop(rx);
//! assert!(!path.exists()); // the listener removed its socket file
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), csp::BoxError>(())
//! ```
//!
//! **Rules.** The listening end accepts its peer at its first operation (as opening a
//! FIFO waits for the other side), and [`connect`] waits until it has. One peer per
//! path: a second program connecting while the end has its peer is refused with an
//! error naming the path, and so is a program whose end carries another type, expects
//! another channel name, or has the same role. A socket file left by a dead program
//! is replaced; a path held by a live listener is refused ([`NetError::InUse`]); a
//! path that is not a socket is never touched. The listening end removes its socket
//! file when it goes (or is poisoned or retired before a peer came).

use std::marker::PhantomData;
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::door::Door;
use super::endpoint::{Endpoint, Spec};
use super::error::NetError;
use super::handshake;
use super::wire::{Role, WireType};
use super::{NetInput, NetOutput};
use crate::channel::{Wire, DEFAULT_MAX_FRAME};

/// The reading end of a named channel at `path`, listening there; the writer is the
/// program that [`connect`]s. Shorthand for `Named::at(path).listen_reader()`.
///
/// ```
/// # let path = std::env::temp_dir().join(format!("csp-doc-listen-{}.sock", std::process::id()));
/// let rx = csp::net::named::listen::<u64>(&path)?;
/// assert!(path.exists());
/// drop(rx);
/// assert!(!path.exists());
/// # Ok::<(), csp::BoxError>(())
/// ```
pub fn listen<T: Wire>(path: impl AsRef<Path>) -> Result<NetInput<T>, NetError> {
    Named::at(path).listen_reader()
}

/// The writing end of the named channel at `path`, whose listener reads. Shorthand
/// for `Named::at(path).connect_writer()`.
///
/// ```
/// # let path = std::env::temp_dir().join(format!("csp-doc-connect-{}.sock", std::process::id()));
/// use csp::net::{named, NetError};
/// // Nobody listens there: the error names the path.
/// let err = named::connect::<u64>(&path).unwrap_err();
/// assert!(matches!(err, NetError::Connect { .. }));
/// assert!(err.to_string().contains(&*path.to_string_lossy()));
/// # Ok::<(), csp::BoxError>(())
/// ```
pub fn connect<T: Wire>(path: impl AsRef<Path>) -> Result<NetOutput<T>, NetError> {
    Named::at(path).connect_writer()
}

/// The reading end of the named channel at `path`, whose listener writes
/// ([`Named::listen_writer`]). Shorthand for `Named::at(path).connect_reader()`.
///
/// ```
/// # let path = std::env::temp_dir().join(format!("csp-doc-cr-{}.sock", std::process::id()));
/// use csp::net::named::{self, Named};
/// let tx = Named::<u8>::at(&path).listen_writer()?;
/// let t = std::thread::spawn({
///     let path = path.clone();
///     move || named::connect_reader::<u8>(&path).unwrap().read().unwrap()
/// });
/// tx.write(9)?;
/// assert_eq!(t.join().unwrap(), 9);
/// # Ok::<(), csp::BoxError>(())
/// ```
pub fn connect_reader<T: Wire>(path: impl AsRef<Path>) -> Result<NetInput<T>, NetError> {
    Named::at(path).connect_reader()
}

/// A named channel under construction: its path, name, frame limit, and how long
/// [`connect`] waits; then one of the four ends.
///
/// ```
/// # let path = std::env::temp_dir().join(format!("csp-doc-builder-{}.sock", std::process::id()));
/// use csp::net::named::Named;
/// let rx = Named::<Vec<u8>>::at(&path).named("blobs").max_frame(1 << 20).listen_reader()?;
/// assert_eq!(&*rx.name(), "blobs");
/// # Ok::<(), csp::BoxError>(())
/// ```
pub struct Named<T> {
    path: PathBuf,
    name: Option<String>,
    max_frame: usize,
    timeout: Option<Duration>,
    buffer: usize,
    tag: Option<String>,
    _marker: PhantomData<fn() -> T>,
}

impl<T: Wire> Named<T> {
    /// The named channel at `path`.
    ///
    /// ```
    /// let n = csp::net::named::Named::<u8>::at("/tmp/jobs");
    /// # drop(n);
    /// ```
    pub fn at(path: impl AsRef<Path>) -> Named<T> {
        Named {
            path: path.as_ref().to_path_buf(),
            name: None,
            max_frame: DEFAULT_MAX_FRAME,
            timeout: None,
            buffer: 0,
            tag: None,
            _marker: PhantomData,
        }
    }

    /// The channel's name, in errors and in the hello: both programs must use the same
    /// (default: the path's file name), so one that reaches the wrong path is refused.
    ///
    /// ```
    /// let n = csp::net::named::Named::<u8>::at("/tmp/jobs").named("jobs-v2");
    /// # drop(n);
    /// ```
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The largest encoded value this end accepts, and writes (default 64 KiB, as
    /// [`Channel::max_frame`](crate::Channel::max_frame)): a larger one is refused
    /// whole with `TooLarge`, a peer's larger frame breaks the connection.
    ///
    /// ```
    /// let n = csp::net::named::Named::<Vec<u8>>::at("/tmp/blobs").max_frame(4 << 20);
    /// # drop(n);
    /// ```
    pub fn max_frame(mut self, bytes: usize) -> Self {
        self.max_frame = bytes;
        self
    }

    /// How long a connecting end waits for the listener to accept it (default: as long
    /// as it takes, as opening a FIFO does). Past it, [`NetError::Timeout`].
    ///
    /// ```
    /// let n = csp::net::named::Named::<u8>::at("/tmp/jobs").timeout(std::time::Duration::from_secs(5));
    /// # drop(n);
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// A buffered channel: the writer may run up to `n` values ahead of the reader (`0`,
    /// the default, is a rendezvous). A `write` then returns once its value is sent,
    /// while fewer than `n` values are unacknowledged, instead of once the reader took
    /// it: a stream pays no round trip per value. The reader acknowledges the values it
    /// took in batches (every `⌈n/2⌉`), so while it is busy elsewhere the writer may
    /// see up to `⌈n/2⌉ - 1` values fewer free than a local `Fifo(n)` would have.
    /// Both programs must say the same `n` (the hello checks it). As on a local
    /// buffered channel, a value written `Ok` is delivered unless the reader retires or
    /// poisons the channel first; `write_timeout` waits for room until its deadline.
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("csp-doc-buffer-{}.sock", std::process::id()));
    /// use csp::net::named::Named;
    /// let rx = Named::<u32>::at(&path).buffer(64).listen_reader()?;
    /// let writer = std::thread::spawn({
    ///     let path = path.clone();
    ///     move || -> Result<(), csp::BoxError> {
    ///         let tx = Named::<u32>::at(&path).buffer(64).connect_writer()?;
    ///         (0..1000).try_for_each(|i| tx.write(i))?; // up to 64 ahead of the reader
    ///         Ok(())
    ///     }
    /// });
    /// assert_eq!(rx.iter().count(), 1000);
    /// writer.join().unwrap()?;
    /// # Ok::<(), csp::BoxError>(())
    /// ```
    pub fn buffer(mut self, n: usize) -> Self {
        self.buffer = n;
        self
    }

    /// A tag for the carried type, checked in the hello beside its name and size: say
    /// the type's version (`"Job v2"`), and a program built with another version is
    /// refused even where name and size agree (fields swapped, `u32` turned `f32`),
    /// which the name and size alone cannot see.
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("csp-doc-tag-{}.sock", std::process::id()));
    /// use csp::net::{named::Named, NetError};
    /// let rx = Named::<(u32, f32)>::at(&path).tag("point v2").listen_reader()?;
    /// let t = std::thread::spawn(move || rx.read_timeout(std::time::Duration::from_secs(10)));
    /// let old = Named::<(u32, f32)>::at(&path).tag("point v1").connect_writer().unwrap_err();
    /// assert!(matches!(old, NetError::Refused { .. }));
    /// assert!(old.to_string().contains("\"point v1\""), "{old}");
    /// # drop(Named::<(u32, f32)>::at(&path).tag("point v2").connect_writer()?.write((1, 2.0)));
    /// # t.join().unwrap()?;
    /// # Ok::<(), csp::BoxError>(())
    /// ```
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tag = Some(tag.into());
        self
    }

    /// Listens at the path as the reader.
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("csp-doc-lr-{}.sock", std::process::id()));
    /// let rx = csp::net::named::Named::<u8>::at(&path).listen_reader()?;
    /// # drop(rx);
    /// # Ok::<(), csp::BoxError>(())
    /// ```
    pub fn listen_reader(self) -> Result<NetInput<T>, NetError> {
        let max = self.max_frame;
        Ok(NetInput::new(self.listen(Role::Reader)?, max))
    }

    /// Listens at the path as the writer (the connecting program reads).
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("csp-doc-lw-{}.sock", std::process::id()));
    /// let tx = csp::net::named::Named::<u8>::at(&path).listen_writer()?;
    /// # drop(tx);
    /// # Ok::<(), csp::BoxError>(())
    /// ```
    pub fn listen_writer(self) -> Result<NetOutput<T>, NetError> {
        let max = self.max_frame;
        Ok(NetOutput::new(self.listen(Role::Writer)?, max))
    }

    /// Connects to the path's listener as the writer.
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("csp-doc-cw-{}.sock", std::process::id()));
    /// use csp::net::named::Named;
    /// assert!(Named::<u8>::at(&path).connect_writer().is_err()); // nobody listens
    /// ```
    pub fn connect_writer(self) -> Result<NetOutput<T>, NetError> {
        let max = self.max_frame;
        Ok(NetOutput::new(self.connect(Role::Writer)?, max))
    }

    /// Connects to the path's listener as the reader.
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("csp-doc-cr2-{}.sock", std::process::id()));
    /// use csp::net::named::Named;
    /// assert!(Named::<u8>::at(&path).connect_reader().is_err()); // nobody listens
    /// ```
    pub fn connect_reader(self) -> Result<NetInput<T>, NetError> {
        let max = self.max_frame;
        Ok(NetInput::new(self.connect(Role::Reader)?, max))
    }

    fn spec(&self, role: Role) -> Spec {
        let channel: Arc<str> = match &self.name {
            Some(name) => name.as_str().into(),
            None => self
                .path
                .file_name()
                .map_or_else(|| self.path.to_string_lossy(), |f| f.to_string_lossy())
                .into(),
        };
        let place = format!("named channel '{channel}' at {}", self.path.display());
        let mut ty = WireType::of::<T>();
        ty.tag = self.tag.as_deref().map(Into::into);
        Spec {
            role,
            channel,
            place: place.into(),
            ty,
            max_frame: self.max_frame,
            buffer: self.buffer,
        }
    }

    fn listen(self, role: Role) -> Result<Endpoint, NetError> {
        let spec = self.spec(role);
        let listener = bind(&self.path, &spec.place)?;
        let door = Door::unix(listener, self.path.clone()).map_err(|source| NetError::Listen {
            place: spec.place.to_string(),
            source,
        })?;
        Ok(Endpoint::listening(door, spec))
    }

    fn connect(self, role: Role) -> Result<Endpoint, NetError> {
        let spec = self.spec(role);
        let place = spec.place.to_string();
        let stream = UnixStream::connect(&self.path).map_err(|source| NetError::Connect {
            place: place.clone(),
            source,
        })?;
        let mut link = spec.link(stream.into());
        let deadline = self.timeout.map(|t| Instant::now() + t);
        let peer_max = handshake::connect(&mut link, &spec.hello(), &place, deadline)?;
        let peer = spec.peer(link, None, peer_max);
        Ok(Endpoint::connected(peer, spec))
    }
}

/// Binds a listening socket at `path`, replacing a stale socket file (one nobody
/// listens at: its program died) but never a live one or a file that is not a socket.
fn bind(path: &Path, place: &str) -> Result<UnixListener, NetError> {
    let failed = |source| NetError::Listen {
        place: place.to_string(),
        source,
    };
    match UnixListener::bind(path) {
        Ok(l) => return Ok(l),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {}
        Err(e) => return Err(failed(e)),
    }
    let is_socket = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_socket());
    if !is_socket {
        return Err(NetError::NotASocket {
            place: place.to_string(),
        });
    }
    match UnixStream::connect(path) {
        // A live listener: leave it. (It sees a connection that says nothing and
        // closes, which it ignores.)
        Ok(_) => Err(NetError::InUse {
            place: place.to_string(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            std::fs::remove_file(path).map_err(failed)?;
            UnixListener::bind(path).map_err(failed)
        }
        Err(e) => Err(failed(e)),
    }
}
