import Crypto
import Foundation

/// Checks push webhooks from GitHub (`X-Hub-Signature-256`), GitLab (`X-Gitlab-Token`) and any sender
/// using the generic scheme (`X-Pipeline-Agent-Signature: sha256=HMAC(secret, "<timestamp>.<body>")` with
/// `X-Pipeline-Agent-Timestamp`). Comparisons are constant-time. Replays are refused by what was
/// authenticated: the body's digest for GitHub and GitLab (a fresh delivery id or the bare token does
/// not make an old body new), the signature (over timestamp and body) for the generic scheme.
final class WebhookVerifier: @unchecked Sendable {
    enum Verdict: Equatable {
        case accepted(String)
        case rejected(String)
    }

    static let maxAge: TimeInterval = 300
    private let secret: Data
    private let lock = NSLock()
    private var seen: [String: Date] = [:]

    /// Nil for an empty secret: an empty token would accept an empty `X-Gitlab-Token`.
    init?(secret: String) {
        guard !secret.isEmpty else { return nil }
        self.secret = Data(secret.utf8)
    }

    /// `headers` with lowercased names.
    func verify(headers: [String: String], body: Data, now: Date = Date()) -> Verdict {
        if let signature = headers["x-hub-signature-256"] {
            guard Self.matches(signature, expected: "sha256=" + hmac(body)) else { return .rejected("bad GitHub signature") }
            return remember(Self.digest(body), now: now) ? .accepted("github") : .rejected("replayed delivery")
        }
        if let token = headers["x-gitlab-token"] {
            guard Self.matches(token, expected: String(decoding: secret, as: UTF8.self)) else {
                return .rejected("bad GitLab token")
            }
            return remember(Self.digest(body), now: now) ? .accepted("gitlab") : .rejected("replayed delivery")
        }
        if let signature = headers["x-pipeline-agent-signature"] {
            guard let stamp = headers["x-pipeline-agent-timestamp"], let seconds = TimeInterval(stamp),
                abs(now.timeIntervalSince1970 - seconds) <= Self.maxAge
            else { return .rejected("missing or stale timestamp") }
            var signed = Data("\(stamp).".utf8)
            signed.append(body)
            guard Self.matches(signature, expected: "sha256=" + hmac(signed)) else { return .rejected("bad signature") }
            return remember(signature, now: now) ? .accepted("generic") : .rejected("replayed signature")
        }
        return .rejected("missing signature")
    }

    private static func digest(_ body: Data) -> String { "body:" + SHA256.hash(data: body).hexString }

    private func hmac(_ data: Data) -> String {
        Data(HMAC<SHA256>.authenticationCode(for: data, using: SymmetricKey(data: secret))).hexString
    }

    /// False when this delivery was seen within the replay window.
    private func remember(_ id: String, now: Date) -> Bool {
        lock.withLock {
            seen = seen.filter { now.timeIntervalSince($0.value) < Self.maxAge * 2 }
            guard seen[id] == nil else { return false }
            seen[id] = now
            return true
        }
    }

    /// Constant-time comparison: the time taken does not depend on where the strings differ.
    static func matches(_ given: String, expected: String) -> Bool {
        let left = Array(given.utf8)
        let right = Array(expected.utf8)
        var difference = UInt8(left.count == right.count ? 0 : 1)
        for index in 0..<max(left.count, right.count) {
            difference |= (index < left.count ? left[index] : 0) ^ (index < right.count ? right[index] : 0)
        }
        return difference == 0
    }
}

/// Admits one event per interval and counts the ones it held back.
final class RateLimitedLog: @unchecked Sendable {
    private let interval: TimeInterval
    private let lock = NSLock()
    private var last: Date?
    private var suppressed = 0

    init(interval: TimeInterval) {
        self.interval = interval
    }

    /// How many were held back since the last admitted one, or nil when this one is held back too.
    func admit(now: Date = Date()) -> Int? {
        lock.withLock {
            if let last, now.timeIntervalSince(last) < interval {
                suppressed += 1
                return nil
            }
            last = now
            defer { suppressed = 0 }
            return suppressed
        }
    }
}
