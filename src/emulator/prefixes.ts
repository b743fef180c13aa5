// Address prefix and port range checks the way Network validates security rules.
import ipaddr from "ipaddr.js";

/** `*`, a service tag (VirtualNetwork, Internet, Storage.WestEurope, ...), an IP or a CIDR. */
export function isValidAddressPrefix(value: string): boolean {
  if (value === "*") return true;
  if (/^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z0-9]+)?$/.test(value)) return true;
  if (value.includes("/")) {
    if (!ipaddr.isValidCIDR(value)) return false;
    if (value.includes(":")) {
      return (
        ipaddr.IPv6.networkAddressFromCIDR(value).toString() ===
        ipaddr.parse(value.split("/")[0] ?? "").toString()
      );
    }
    // Azure refuses a CIDR whose host bits are set (10.0.0.5/24).
    if (!ipaddr.IPv4.isValidFourPartDecimal(value.split("/")[0] ?? "")) return false;
    return ipaddr.IPv4.networkAddressFromCIDR(value).toString() === value.split("/")[0];
  }
  if (value.includes(":")) return ipaddr.IPv6.isValid(value);
  return ipaddr.IPv4.isValidFourPartDecimal(value);
}

/** True for `*` and service tags, which are not allowed inside the plural `...Prefixes` arrays. */
export function isWildcardOrTag(value: string): boolean {
  return value === "*" || /^[A-Za-z]/.test(value);
}

export function isValidPortRange(value: string): boolean {
  if (value === "*") return true;
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(value);
  if (m === null) return false;
  const low = Number(m[1]);
  const high = m[2] === undefined ? low : Number(m[2]);
  return low >= 0 && high <= 65535 && low <= high;
}
