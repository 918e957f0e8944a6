//! Connections that have not said `hello` yet, counted per client address
//! and in all, so that anonymous sockets cannot take the server's memory
//! or push out the members of calls (who are not counted).

use std::collections::HashMap;
use std::net::IpAddr;

use super::Hub;

/// The pending connections: how many from each address, and in all.
#[derive(Default)]
pub(super) struct Pending {
    by_address: HashMap<IpAddr, u32>,
    total: usize,
}

/// A connection's place among those that have not said `hello`, from
/// [`Hub::reserve_pending`]; given back when dropped (on `hello`, or when
/// the connection ends).
pub struct PendingSlot {
    hub: Hub,
    address: Option<IpAddr>,
}

impl std::fmt::Debug for PendingSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingSlot")
            .field("address", &self.address)
            .finish()
    }
}

/// What is counted as one client: an IPv4 address, or an IPv6 /64 (one
/// subscriber's network; an IPv4 address mapped into IPv6 is that IPv4
/// address).
fn client_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let bits = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(bits.into())
            }
        },
    }
}

impl Hub {
    fn pending(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.0.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A place for a new connection from `address` (if known) among those
    /// that have not said `hello`; `None` if there are already
    /// [`Config::max_pending`](super::Config::max_pending) in all, or
    /// [`Config::max_pending_per_address`](super::Config::max_pending_per_address)
    /// from that address.
    pub fn reserve_pending(&self, address: Option<IpAddr>) -> Option<PendingSlot> {
        let config = &self.0.config;
        let address = address.map(client_of);
        let mut pending = self.pending();
        if pending.total >= config.max_pending {
            return None;
        }
        if let Some(a) = address {
            let from = pending.by_address.entry(a).or_insert(0);
            if *from as usize >= config.max_pending_per_address {
                return None;
            }
            *from += 1;
        }
        pending.total += 1;
        Some(PendingSlot {
            hub: self.clone(),
            address,
        })
    }
}

impl Drop for PendingSlot {
    fn drop(&mut self) {
        let mut pending = self.hub.pending();
        pending.total = pending.total.saturating_sub(1);
        if let Some(a) = self.address
            && let std::collections::hash_map::Entry::Occupied(mut from) =
                pending.by_address.entry(a)
        {
            *from.get_mut() -= 1;
            if *from.get() == 0 {
                from.remove();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_network_counts_as_one_client_and_a_mapped_ipv4_as_itself() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1"
            .parse()
            .unwrap_or(IpAddr::from([0; 4]));
        let b: IpAddr = "2001:db8:1:2:bbbb::9"
            .parse()
            .unwrap_or(IpAddr::from([0; 4]));
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_of(a), client_of(b));
        assert_ne!(client_of(a), client_of(other));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(client_of(mapped), IpAddr::from([192, 0, 2, 7]));
    }
}
