import Crypto
import Foundation
import SpecModel

/// Builds the request of each channel type. Secrets (URLs, keys) come from the environment
/// variables the agent config names, and never appear in payloads, logs or audit records.
struct ChannelPayloads {
    static let pagerDutyURL = "https://events.pagerduty.com/v2/enqueue"

    let environment: [String: String]
    let now: () -> Date

    func request(for event: NotificationEvent, channel: NotificationChannel) throws -> ChannelRequest? {
        switch channel.type {
        case "slack": return try slack(event, channel)
        case "pagerduty": return try pagerDuty(event, channel)
        case "webhook": return try webhook(event, channel)
        default: throw NotificationError("unknown channel type \(channel.type)")
        }
    }

    private func slack(_ event: NotificationEvent, _ channel: NotificationChannel) throws -> ChannelRequest {
        let icon: String
        switch event.severity {
        case .info: icon = ":large_blue_circle:"
        case .warning: icon = ":warning:"
        case .error, .critical: icon = ":red_circle:"
        }
        let body = CanonicalJSON.serialize(.object(["text": .string("\(icon) \(event.summary)")]))
        return ChannelRequest(url: try url(channel), headers: ["Content-Type": "application/json"], body: Data(body.utf8))
    }

    /// Events API v2: failures and Critical health trigger, recoveries resolve, the rest is not paged.
    private func pagerDuty(_ event: NotificationEvent, _ channel: NotificationChannel) throws -> ChannelRequest? {
        let pages = event.severity == .critical || event.severity == .error
        guard pages || event.resolves else { return nil }
        guard let variable = channel.routingKeyEnv, let key = environment[variable], !key.isEmpty else {
            throw NotificationError("routing key variable \(channel.routingKeyEnv ?? "(routingKeyEnv)") is unset")
        }
        var payload: [String: JSONValue] = [
            "routing_key": .string(key), "event_action": .string(event.resolves ? "resolve" : "trigger"),
            "dedup_key": .string(event.dedupKey),
        ]
        if !event.resolves {
            payload["payload"] = .object([
                "summary": .string(event.summary), "source": "pipeline-agent",
                "severity": .string(event.severity == .critical ? "critical" : "error"),
                "component": .string(event.stage ?? "-"), "group": .string(event.pipeline ?? "-"),
                "custom_details": .object([
                    "event": .string(event.kind.rawValue), "candidate": event.candidate.map(JSONValue.string) ?? .null,
                ]),
            ])
        }
        let url = channel.url ?? Self.pagerDutyURL
        return ChannelRequest(
            url: url, headers: ["Content-Type": "application/json"], body: Data(CanonicalJSON.serialize(.object(payload)).utf8))
    }

    /// JSON body signed with HMAC-SHA256 over "<timestamp>.<body>", so a receiver can refuse replays.
    private func webhook(_ event: NotificationEvent, _ channel: NotificationChannel) throws -> ChannelRequest {
        let timestamp = String(Int(now().timeIntervalSince1970))
        var members: [String: JSONValue] = [
            "event": .string(event.kind.rawValue), "pipeline": event.pipeline.map(JSONValue.string) ?? .null,
            "stage": event.stage.map(JSONValue.string) ?? .null, "candidate": event.candidate.map(JSONValue.string) ?? .null,
            "summary": .string(event.summary), "severity": .string(event.severity.rawValue), "timestamp": .string(timestamp),
        ]
        if let detail = event.detail { members["detail"] = detail }
        let body = CanonicalJSON.serialize(.object(members))
        var headers = ["Content-Type": "application/json", "X-Pipeline-Agent-Timestamp": timestamp]
        if let variable = channel.hmacSecretEnv {
            guard let secret = environment[variable], !secret.isEmpty else {
                throw NotificationError("HMAC secret variable \(variable) is unset")
            }
            headers["X-Pipeline-Agent-Signature"] = "sha256=" + Self.hmac(secret: secret, message: "\(timestamp).\(body)")
        }
        return ChannelRequest(url: try url(channel), headers: headers, body: Data(body.utf8))
    }

    private func url(_ channel: NotificationChannel) throws -> String {
        if let variable = channel.urlEnv {
            guard let url = environment[variable], !url.isEmpty else {
                throw NotificationError("URL variable \(variable) is unset")
            }
            return url
        }
        guard let url = channel.url else { throw NotificationError("channel has neither url nor urlEnv") }
        return url
    }

    static func hmac(secret: String, message: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return Data(code).hexString
    }
}

/// A notification that could not be built or sent.
struct NotificationError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
