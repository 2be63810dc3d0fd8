import Crypto
import Foundation

/// Checks push webhooks from GitHub (`X-Hub-Signature-256`), GitLab (`X-Gitlab-Token`) and any sender
/// using the generic scheme (`X-Pipeline-Agent-Signature: sha256=HMAC(secret, "<timestamp>.<body>")` with
/// `X-Pipeline-Agent-Timestamp`). Comparisons are constant-time; replays are refused.
final class WebhookVerifier: @unchecked Sendable {
    enum Verdict: Equatable {
        case accepted(String)
        case rejected(String)
    }

    static let maxAge: TimeInterval = 300
    private let secret: Data
    private let lock = NSLock()
    private var seen: [String: Date] = [:]

    init(secret: String) {
        self.secret = Data(secret.utf8)
    }

    /// `headers` with lowercased names.
    func verify(headers: [String: String], body: Data, now: Date = Date()) -> Verdict {
        if let signature = headers["x-hub-signature-256"] {
            guard Self.matches(signature, expected: "sha256=" + hmac(body)) else { return .rejected("bad GitHub signature") }
            return remember(headers["x-github-delivery"] ?? signature, now: now)
                ? .accepted("github") : .rejected("replayed delivery")
        }
        if let token = headers["x-gitlab-token"] {
            guard Self.matches(token, expected: String(decoding: secret, as: UTF8.self)) else {
                return .rejected("bad GitLab token")
            }
            return .accepted("gitlab")
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
