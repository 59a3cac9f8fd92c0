//! A typed key-value server: Python's `multiprocessing.Manager().dict()` as a process
//! that owns the map, with one [`KvClient`] per client process — on threads or in
//! forked OS processes alike.
//!
//! Each client talks to the server over a [`Duplex`] of its own; the server alts fairly
//! over every client's requests, so a busy client cannot starve the others, and serves
//! one request at a time, so every operation is atomic; a read-modify-write is a
//! [`KvClient::compare_and_set`] loop (see [`KvClient::update`]). The server ends when
//! every client has gone, returning the final map.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::alt::{Alt, AltError, Fair};
use crate::channel::{Channel, ChannelError, Duplex, Wire};
use crate::process::{BoxError, Process};

/// A request to the server.
#[derive(Serialize, Deserialize)]
enum KvRequest<K, V> {
    Get(K),
    Set(K, V),
    Remove(K),
    CompareAndSet {
        key: K,
        expected: Option<V>,
        new: Option<V>,
    },
    Len,
}

/// The server's answer.
#[derive(Serialize, Deserialize)]
enum KvReply<V> {
    Value(Option<V>),
    Swapped(bool),
    Len(usize),
}

/// The server process of a [`kv_server`]: its result is the final map.
///
/// ```
/// use std::collections::BTreeMap;
/// use csp::components::{kv_server, KvServer};
/// let (server, clients): (KvServer<String, u8>, _) = kv_server("counts", 1);
/// let server = csp::spawn(server)?;
/// for kv in clients {
///     kv.set("a".into(), 1)?;
/// } // the last client is gone: the server ends, and its result is the map
/// assert_eq!(server.join()?, Some(BTreeMap::from([("a".to_string(), 1)])));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type KvServer<K, V> = Process<BTreeMap<K, V>>;

/// One client's connection to a [`kv_server`]; `Send`, so it moves into its process.
///
/// ```
/// use csp::components::kv_server;
/// use csp::{Parallel, Process};
/// // Four clients count in one shared map, each from its own process.
/// let (server, clients) = kv_server::<String, u64>("counter", 4);
/// let workers: Parallel<u64> = clients
///     .into_iter()
///     .map(|kv| Process::with_ends("worker", kv, |kv| {
///         for _ in 0..10 {
///             kv.update("hits".to_string(), |n| Some(n.copied().unwrap_or(0) + 1))?;
///         }
///         Ok(0)
///     }))
///     .collect();
/// let map = csp::par!(workers.into_process("workers"), server)?.1.unwrap();
/// assert_eq!(map["hits"], 40); // no update was lost
/// # Ok::<(), csp::NetworkError>(())
/// ```
pub struct KvClient<K, V> {
    conn: Duplex<KvRequest<K, V>, KvReply<V>>,
}

/// A key-value server named `name` and its `clients` connections (each client process
/// takes one; the server ends once all are dropped). The server's result is the final
/// map.
///
/// ```
/// use csp::components::kv_server;
/// use csp::{Parallel, Process};
///
/// let (server, clients) = kv_server::<String, u64>("config", 2);
/// let mut clients = clients.into_iter();
/// let (a, b) = (clients.next().unwrap(), clients.next().unwrap());
/// let results = Parallel::new()
///     .add(server.map(|map| map.len() as u64))
///     .add(Process::with_ends("writer", a, |kv| {
///         kv.set("threads".into(), 4)?;
///         Ok(0)
///     }))
///     .add(Process::with_ends("reader", b, |kv| {
///         // Waits for the writer's value, as a client of a Manager dict would poll.
///         loop {
///             if let Some(n) = kv.get("threads".into())? {
///                 return Ok(n);
///             }
///             std::thread::yield_now();
///         }
///     }))
///     .run()?;
/// assert_eq!(results, [Some(1), Some(0), Some(4)]);
/// # Ok::<(), csp::NetworkError>(())
/// ```
pub fn kv_server<K, V>(name: &str, clients: usize) -> (KvServer<K, V>, Vec<KvClient<K, V>>)
where
    K: Wire + Ord,
    V: Wire + PartialEq + Clone,
{
    let (ends, server_ends): (Vec<_>, Vec<_>) = (0..clients)
        .map(|i| {
            // One place each way: a client has one request out at a time, so neither
            // side ever waits for the other to take a value, only for one to come.
            let (client, server) = Duplex::<KvRequest<K, V>, KvReply<V>>::over(
                Channel::new().named(format!("{name}[{i}]>")).fifo(1),
                Channel::new().named(format!("{name}[{i}]<")).fifo(1),
            );
            (KvClient { conn: client }, server)
        })
        .unzip();
    let server = Process::with_ends(name.to_string(), server_ends, serve);
    (server, ends)
}

/// The server's loop: a fair alt over every open client, one request at a time.
fn serve<K: Ord, V: PartialEq + Clone>(
    clients: Vec<Duplex<KvReply<V>, KvRequest<K, V>>>,
) -> Result<BTreeMap<K, V>, BoxError> {
    let mut map = BTreeMap::new();
    let mut open = vec![true; clients.len()];
    let mut fair = Fair::new();
    while open.iter().any(|o| *o) {
        let mut alt = Alt::new();
        for (i, c) in clients.iter().enumerate() {
            alt = alt.input_if(open[i], c.receiver(), move |r| (i, r));
        }
        match alt.fair_select(&mut fair) {
            Ok((i, request)) => {
                // A client that left before its answer is gone: nothing to tell it.
                if let Err(e) = clients[i].send(answer(&mut map, request)) {
                    if !e.error().is_retired() {
                        return Err(ChannelError::from(e).into());
                    }
                }
            }
            Err(AltError::Channel { guard, error }) if error.is_retired() => open[guard] = false,
            Err(other) => return Err(other.into()),
        }
    }
    Ok(map)
}

fn answer<K: Ord, V: PartialEq + Clone>(
    map: &mut BTreeMap<K, V>,
    request: KvRequest<K, V>,
) -> KvReply<V> {
    match request {
        KvRequest::Get(k) => KvReply::Value(map.get(&k).cloned()),
        KvRequest::Set(k, v) => KvReply::Value(map.insert(k, v)),
        KvRequest::Remove(k) => KvReply::Value(map.remove(&k)),
        KvRequest::CompareAndSet { key, expected, new } => {
            if map.get(&key) != expected.as_ref() {
                return KvReply::Swapped(false);
            }
            match new {
                Some(v) => map.insert(key, v),
                None => map.remove(&key),
            };
            KvReply::Swapped(true)
        }
        KvRequest::Len => KvReply::Len(map.len()),
    }
}

impl<K, V> KvClient<K, V> {
    fn ask(&self, request: KvRequest<K, V>) -> Result<KvReply<V>, ChannelError> {
        self.conn.send(request)?;
        self.conn.recv()
    }

    fn value(&self, request: KvRequest<K, V>) -> Result<Option<V>, ChannelError> {
        match self.ask(request)? {
            KvReply::Value(v) => Ok(v),
            _ => Err(self.protocol()),
        }
    }

    /// A reply of the wrong kind: only a broken peer sends one.
    fn protocol(&self) -> ChannelError {
        ChannelError::Transport {
            channel: self.conn.receiver().name(),
            message: "the key-value server answered with a reply of the wrong kind".into(),
        }
    }

    /// The value under `key` (a copy), if any: `d[key]` / `d.get(key)`.
    ///
    /// ```
    /// use csp::components::kv_server;
    /// let (server, mut clients) = kv_server::<String, u32>("prefs", 1);
    /// let server = csp::spawn(server)?; // the server on a thread of its own
    /// let kv = clients.pop().unwrap();
    /// assert_eq!(kv.get("theme".into())?, None);
    /// kv.set("theme".into(), 2)?;
    /// assert_eq!(kv.get("theme".into())?, Some(2));
    /// # drop(kv);
    /// # server.join()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get(&self, key: K) -> Result<Option<V>, ChannelError> {
        self.value(KvRequest::Get(key))
    }

    /// Stores `value` under `key`; the value it replaced, if any: `d[key] = value`.
    ///
    /// ```
    /// use csp::components::kv_server;
    /// let (server, mut clients) = kv_server::<String, u32>("prefs", 1);
    /// let server = csp::spawn(server)?; // the server on a thread of its own
    /// let kv = clients.pop().unwrap();
    /// assert_eq!(kv.set("volume".into(), 3)?, None); // a new key
    /// assert_eq!(kv.set("volume".into(), 7)?, Some(3)); // the value it replaced
    /// # drop(kv);
    /// # server.join()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set(&self, key: K, value: V) -> Result<Option<V>, ChannelError> {
        self.value(KvRequest::Set(key, value))
    }

    /// Removes `key`; its value, if any: `d.pop(key, None)`.
    ///
    /// ```
    /// use csp::components::kv_server;
    /// let (server, mut clients) = kv_server::<String, u32>("prefs", 1);
    /// let server = csp::spawn(server)?; // the server on a thread of its own
    /// let kv = clients.pop().unwrap();
    /// kv.set("tmp".into(), 9)?;
    /// assert_eq!(kv.remove("tmp".into())?, Some(9));
    /// assert_eq!(kv.remove("tmp".into())?, None);
    /// # drop(kv);
    /// # server.join()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn remove(&self, key: K) -> Result<Option<V>, ChannelError> {
        self.value(KvRequest::Remove(key))
    }

    /// Sets `key` to `new` (`None`: removes it) only if it holds `expected` now;
    /// whether it did. Atomic: the server serves one request at a time.
    ///
    /// ```
    /// use csp::components::kv_server;
    /// let (server, mut clients) = kv_server::<String, u32>("prefs", 1);
    /// let server = csp::spawn(server)?; // the server on a thread of its own
    /// let kv = clients.pop().unwrap();
    /// kv.set("owner".into(), 1)?;
    /// // Take ownership only if client 1 still has it.
    /// assert!(kv.compare_and_set("owner".into(), Some(1), Some(2))?);
    /// assert!(!kv.compare_and_set("owner".into(), Some(1), Some(3))?); // it is 2 now
    /// assert!(kv.compare_and_set("owner".into(), Some(2), None)?); // `None`: remove
    /// assert_eq!(kv.get("owner".into())?, None);
    /// # drop(kv);
    /// # server.join()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn compare_and_set(
        &self,
        key: K,
        expected: Option<V>,
        new: Option<V>,
    ) -> Result<bool, ChannelError> {
        match self.ask(KvRequest::CompareAndSet { key, expected, new })? {
            KvReply::Swapped(done) => Ok(done),
            _ => Err(self.protocol()),
        }
    }

    /// Applies `f` to the value under `key` atomically (a `compare_and_set` loop); the
    /// new value. What Python's `with lock: d[k] = f(d[k])` does, without a lock.
    ///
    /// ```
    /// use csp::components::kv_server;
    /// let (server, mut clients) = kv_server::<String, u32>("prefs", 1);
    /// let server = csp::spawn(server)?; // the server on a thread of its own
    /// let kv = clients.pop().unwrap();
    /// let bump = |n: Option<&u32>| Some(n.copied().unwrap_or(0) + 1);
    /// assert_eq!(kv.update("visits".into(), bump)?, Some(1));
    /// assert_eq!(kv.update("visits".into(), bump)?, Some(2));
    /// # drop(kv);
    /// # server.join()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn update(
        &self,
        key: K,
        f: impl Fn(Option<&V>) -> Option<V>,
    ) -> Result<Option<V>, ChannelError>
    where
        K: Clone,
        V: Clone,
    {
        loop {
            let now = self.get(key.clone())?;
            let next = f(now.as_ref());
            if self.compare_and_set(key.clone(), now, next.clone())? {
                return Ok(next);
            }
        }
    }

    /// How many keys the map holds: `len(d)`.
    ///
    /// ```
    /// use csp::components::kv_server;
    /// let (server, mut clients) = kv_server::<String, u32>("prefs", 1);
    /// let server = csp::spawn(server)?; // the server on a thread of its own
    /// let kv = clients.pop().unwrap();
    /// kv.set("a".into(), 1)?;
    /// kv.set("b".into(), 2)?;
    /// kv.set("a".into(), 3)?;
    /// assert_eq!(kv.len()?, 2);
    /// # drop(kv);
    /// # server.join()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn len(&self) -> Result<usize, ChannelError> {
        match self.ask(KvRequest::Len)? {
            KvReply::Len(n) => Ok(n),
            _ => Err(self.protocol()),
        }
    }

    /// Whether the map is empty.
    ///
    /// ```
    /// use csp::components::kv_server;
    /// let (server, mut clients) = kv_server::<String, u32>("prefs", 1);
    /// let server = csp::spawn(server)?; // the server on a thread of its own
    /// let kv = clients.pop().unwrap();
    /// assert!(kv.is_empty()?);
    /// kv.set("a".into(), 1)?;
    /// assert!(!kv.is_empty()?);
    /// # drop(kv);
    /// # server.join()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_empty(&self) -> Result<bool, ChannelError> {
        Ok(self.len()? == 0)
    }
}

impl<K, V> crate::process::Ends for KvClient<K, V> {
    fn record_ends(&self, rec: &mut crate::process::Recorder) {
        self.conn.record_ends(rec)
    }
}

impl<K, V> std::fmt::Debug for KvClient<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KvClient")
            .field("conn", &self.conn)
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::Parallel;

    #[test]
    fn get_set_remove_len_and_compare_and_set_behave_as_a_dict() {
        let (server, mut clients) = kv_server::<u32, String>("dict", 1);
        let kv = clients.pop().unwrap();
        let results = Parallel::new()
            .add(server.map(|map| map.into_iter().collect::<Vec<_>>()))
            .add(Process::with_ends("client", kv, |kv| {
                assert_eq!(kv.get(1)?, None);
                assert!(kv.is_empty()?);
                assert_eq!(kv.set(1, "a".into())?, None);
                assert_eq!(kv.set(1, "b".into())?, Some("a".into()));
                assert_eq!(kv.get(1)?, Some("b".into()));
                assert!(!kv.compare_and_set(1, Some("a".into()), Some("c".into()))?);
                assert!(kv.compare_and_set(1, Some("b".into()), Some("c".into()))?);
                assert!(kv.compare_and_set(2, None, Some("x".into()))?);
                assert_eq!(kv.len()?, 2);
                assert_eq!(kv.remove(2)?, Some("x".into()));
                assert_eq!(kv.remove(2)?, None);
                assert!(kv.compare_and_set(1, Some("c".into()), None)?); // removes
                kv.set(3, "kept".into())?;
                Ok(Vec::new())
            }))
            .run()
            .unwrap();
        assert_eq!(results[0], Some(vec![(3, "kept".to_string())]));
    }
}
