import { resolveClientAddress, type RequestHeaders } from './client-address.js';
import { normalizeIp } from './ip-address.js';
import { pseudonymizeIp, pseudonymizeUserId, truncateIp } from './pseudonymize.js';
import { compileTrustedProxies, type TrustPredicate, type TrustedProxies } from './trusted-proxies.js';

/**
 * How client addresses are stored: `full`; `truncate` (IPv4 /24, IPv6 /48); `hash` (a keyed
 * pseudonym that is still an address, see `pseudonymizeIp`); `none` (not at all).
 */
export type IpMode = 'full' | 'truncate' | 'hash' | 'none';

/** How user ids are stored: `plain`; `hmac` (a keyed pseudonym, `enduser.pseudo.id`); `none`. */
export type UserIdMode = 'plain' | 'hmac' | 'none';

/** What a {@link PrivacyPolicy} is built from (resolved config). */
export interface PrivacyPolicyConfig {
  trustedProxies: TrustedProxies;
  ipMode: IpMode;
  userIdMode: UserIdMode;
  /** Needed by `hash` and `hmac`; without it those modes store nothing (fail closed). */
  hmacKey: string | undefined;
}

/** The addresses of a request as they are kept. */
export interface RequestAddresses {
  /** The client, as the trusted proxies tell it (by default the socket peer). */
  client: string | undefined;
  /** The socket peer. */
  peer: string | undefined;
}

/**
 * Applies the privacy options to personal data before it becomes a span attribute: which
 * proxies are believed about the client address, how addresses and user ids are kept.
 * Instances are immutable and safe to share.
 */
export class PrivacyPolicy {
  readonly #trust: TrustPredicate;
  readonly #ipMode: IpMode;
  readonly #userIdMode: UserIdMode;
  readonly #key: string | undefined;

  constructor(config: PrivacyPolicyConfig) {
    this.#trust = compileTrustedProxies(config.trustedProxies);
    this.#key = config.hmacKey;
    this.#ipMode = config.ipMode === 'hash' && !this.#key ? 'none' : config.ipMode;
    this.#userIdMode = config.userIdMode === 'hmac' && !this.#key ? 'none' : config.userIdMode;
  }

  /** The client and peer addresses of an inbound request, as they are to be kept. */
  requestAddresses(peer: string | undefined, headers: RequestHeaders): RequestAddresses {
    const client = resolveClientAddress(peer, headers, this.#trust);
    return { client: this.address(client), peer: this.address(peer) };
  }

  /**
   * An address as it is to be kept. Text that is no address is kept as given under `full`
   * (the row stores null and the raw text, cut short, in metadata) and dropped otherwise.
   */
  address(value: string | undefined): string | undefined {
    if (value === undefined || this.#ipMode === 'full') return value;
    if (this.#ipMode === 'none') return undefined;
    const ip = normalizeIp(value).ip;
    if (ip === null) return undefined;
    return this.#ipMode === 'truncate' ? truncateIp(ip) : pseudonymizeIp(ip, this.#key!);
  }

  /** A (normalized) user id as it is to be kept; `undefined` under `none`. */
  userId(id: string | undefined): string | undefined {
    if (id === undefined || this.#userIdMode === 'plain') return id;
    if (this.#userIdMode === 'none') return undefined;
    return pseudonymizeUserId(id, this.#key!);
  }

  /** Whether user ids are kept as given (`plain`). */
  get plainUserIds(): boolean {
    return this.#userIdMode === 'plain';
  }

  /** Whether kept user ids are pseudonyms (then they go in `enduser.pseudo.id`). */
  get pseudonymousUsers(): boolean {
    return this.#userIdMode === 'hmac';
  }
}

/** The defaults: no proxy trusted, addresses and user ids kept as given. */
export const DEFAULT_PRIVACY_POLICY = new PrivacyPolicy({
  trustedProxies: [],
  ipMode: 'full',
  userIdMode: 'plain',
  hmacKey: undefined,
});
