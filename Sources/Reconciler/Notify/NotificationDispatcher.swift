import Foundation
import Logging
import SpecModel

/// Delivers notifications on its own queue, with a timeout and retries with backoff per attempt.
/// A failed delivery never blocks or fails a promotion; every attempt is an audit record, written
/// through `record` (the `Recorder` that owns this dispatcher).
public final class NotificationDispatcher: @unchecked Sendable {
    public struct Policy: Sendable {
        public var attempts = 3
        public var timeout: Duration = .seconds(5)
        public var backoff: Duration = .milliseconds(500)

        public init(attempts: Int = 3, timeout: Duration = .seconds(5), backoff: Duration = .milliseconds(500)) {
            self.attempts = attempts
            self.timeout = timeout
            self.backoff = backoff
        }
    }

    private let channels: [String: NotificationChannel]
    private let payloads: ChannelPayloads
    private let recordAttempt: @Sendable (AuditEvent) throws -> Void
    private let redactor: SecretRedactor
    private let policy: Policy
    private let logger: Logger
    private let queue = DispatchQueue(label: "pipeline-agent.notifications")
    private let pending = DispatchGroup()

    public init(
        config: AgentConfig, redactor: SecretRedactor, logger: Logger, policy: Policy = Policy(),
        environment: [String: String] = ProcessInfo.processInfo.environment,
        record: @escaping @Sendable (AuditEvent) throws -> Void
    ) {
        channels = config.notifications ?? [:]
        payloads = ChannelPayloads(environment: environment, now: { Date() })
        recordAttempt = record
        self.redactor = redactor
        self.policy = policy
        self.logger = logger
    }

    /// Queues `event` for each named channel and returns at once.
    public func send(_ event: NotificationEvent, to names: [String]) {
        for name in names {
            pending.enter()
            queue.async { [self] in
                defer { pending.leave() }
                deliver(event, channel: name)
            }
        }
    }

    /// Waits until queued notifications are delivered or given up, at most `timeout`.
    public func drain(timeout: Duration = .seconds(60)) {
        _ = pending.wait(timeout: .now() + .milliseconds(Int(timeout.components.seconds * 1000)))
    }

    private func deliver(_ event: NotificationEvent, channel name: String) {
        guard let channel = channels[name] else {
            return record(event, name, attempt: 0, ok: false, outcome: "no channel '\(name)' in the agent config")
        }
        let clean = NotificationEvent(
            event.kind, pipeline: event.pipeline, stage: event.stage, candidate: event.candidate,
            summary: redactor.redact(event.summary), severity: event.severity, resolves: event.resolves)
        let request: ChannelRequest
        do {
            guard let built = try payloads.request(for: clean, channel: channel) else { return }
            request = built
        } catch {
            return record(event, name, attempt: 0, ok: false, outcome: "\(error)")
        }
        for attempt in 1...max(1, policy.attempts) {
            let outcome = post(request)
            record(event, name, attempt: attempt, ok: outcome.ok, outcome: outcome.text)
            if outcome.ok || !outcome.retryable || attempt == policy.attempts { return }
            Thread.sleep(
                forTimeInterval: policy.backoff.timeInterval
                    * Double(attempt))
        }
    }

    private func post(_ request: ChannelRequest) -> (ok: Bool, retryable: Bool, text: String) {
        do {
            let response = try CurlClient.post(
                url: request.url, headers: request.headers, body: request.body, timeout: policy.timeout)
            let ok = (200..<300).contains(response.status)
            return (ok, response.status >= 500 || response.status == 429, "HTTP \(response.status)")
        } catch {
            return (false, true, "\(error)")
        }
    }

    private func record(_ event: NotificationEvent, _ channel: String, attempt: Int, ok: Bool, outcome: String) {
        let type = ok ? "notification.sent" : "notification.failed"
        let detail: [String: JSONValue] = [
            "channel": .string(channel), "event": .string(event.kind.rawValue), "attempt": .int(Int64(attempt)),
            "outcome": .string(redactor.redact(outcome)),
        ]
        do {
            try recordAttempt(
                AuditEvent(type, pipeline: event.pipeline, stage: event.stage, candidate: event.candidate, detail: detail))
        } catch {
            logger.error("cannot audit a notification", metadata: ["error": "\(error)"])
        }
    }
}
