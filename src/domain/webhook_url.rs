//! Where a webhook may send deliveries. One rule serves both moments it matters: when a URL is
//! registered, and when a delivery is about to connect. Unless private targets are allowed,
//! a target must be `https` and must not name the server's own network: `localhost`, or a
//! literal address in a loopback, private, link-local or other special-purpose range. Names
//! that resolve to such addresses are refused at connect time with [`is_forbidden`].

use std::net::{IpAddr, Ipv4Addr};

use url::{Host, Url};

/// Why a URL cannot receive deliveries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not `https`.
    Insecure,
    /// `localhost`, or a literal address that [`is_forbidden`].
    ForbiddenAddress,
}

/// Whether deliveries may go to `url`. With `allow_private` (development setups) every
/// `http(s)` URL is allowed.
pub fn check(url: &Url, allow_private: bool) -> Result<(), Refusal> {
    if allow_private {
        return Ok(());
    }
    if url.scheme() != "https" {
        return Err(Refusal::Insecure);
    }
    let forbidden = match url.host() {
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => is_forbidden(IpAddr::V4(ip)),
        Some(Host::Ipv6(ip)) => is_forbidden(IpAddr::V6(ip)),
        None => false,
    };
    if forbidden { Err(Refusal::ForbiddenAddress) } else { Ok(()) }
}

/// Loopback, private, shared, link-local, multicast, unspecified, broadcast, documentation and
/// other special-purpose ranges.
pub fn is_forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return forbidden_v4(v4);
            }
            let segments = v6.segments();
            let first = segments[0];
            // ::/96 holds the deprecated IPv4-compatible form (::a.b.c.d) as well as :: and ::1.
            segments[..6].iter().all(|s| *s == 0)
                || v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80 // link-local
                || (first & 0xffc0) == 0xfec0 // site-local (deprecated)
                || first == 0x2001 && segments[1] == 0x0db8 // documentation
                || first == 0x0064 && segments[1] == 0xff9b // NAT64 can reach IPv4 privates
                || first == 0x2002 // 6to4 embeds any IPv4
        }
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240 // reserved
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forbidden(s: &str) -> bool {
        is_forbidden(s.parse().expect("ip"))
    }

    fn checked(s: &str) -> Result<(), Refusal> {
        check(&Url::parse(s).expect("url"), false)
    }

    #[test]
    fn refuses_internal_ranges() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "100.64.0.1",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
            "::127.0.0.1",
            "::10.0.0.1",
        ] {
            assert!(forbidden(ip), "{ip} should be forbidden");
        }
    }

    #[test]
    fn allows_public_addresses() {
        for ip in ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "1.1.1.1"] {
            assert!(!forbidden(ip), "{ip} should be allowed");
        }
    }

    #[test]
    fn targets_are_https_and_outside_our_network() {
        assert_eq!(checked("https://example.com/hook"), Ok(()));
        assert_eq!(checked("https://93.184.216.34/hook"), Ok(()));
        assert_eq!(checked("http://example.com/hook"), Err(Refusal::Insecure));
        assert_eq!(checked("https://LocalHost:8443/"), Err(Refusal::ForbiddenAddress));
        assert_eq!(checked("https://127.1/"), Err(Refusal::ForbiddenAddress));
        assert_eq!(checked("https://[::ffff:10.0.0.1]/"), Err(Refusal::ForbiddenAddress));
        assert_eq!(check(&Url::parse("http://localhost/").expect("url"), true), Ok(()));
    }
}
