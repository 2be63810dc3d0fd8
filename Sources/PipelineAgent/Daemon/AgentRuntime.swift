import Foundation
import Reconciler

/// What the reconcile thread and the HTTP handlers share: the wake-up signal, the stop flag and
/// the freshness of the last fetch.
final class AgentRuntime: @unchecked Sendable {
    let cancellation: CancellationFlag
    let metrics = AgentMetrics()
    let pollInterval: TimeInterval
    private let lock = NSLock()
    private let wake = DispatchSemaphore(value: 0)
    private var lastGoodFetch: Date?
    private var lastError: String?

    init(pollInterval: TimeInterval, shutdownGrace: Duration) {
        self.pollInterval = pollInterval
        cancellation = CancellationFlag(gracePeriod: shutdownGrace)
    }

    /// Wakes the loop now (a webhook arrived, or the agent is stopping).
    func wakeUp() { wake.signal() }

    /// Sleeps until `seconds` pass or something calls `wakeUp`.
    func sleep(seconds: Double) { _ = wake.wait(timeout: .now() + seconds) }

    func stop() {
        cancellation.cancel()
        wakeUp()
    }

    func fetchSucceeded() { lock.withLock { (lastGoodFetch, lastError) = (Date(), nil) } }
    func fetchFailed(_ error: Error) { lock.withLock { lastError = "\(error)" } }

    /// Ready when a fetch succeeded recently enough (three poll intervals); otherwise why not.
    func readiness(now: Date = Date()) -> String? {
        lock.withLock {
            guard let lastGoodFetch else { return lastError.map { "no successful fetch yet: \($0)" } ?? "no fetch yet" }
            let age = now.timeIntervalSince(lastGoodFetch)
            guard age <= max(3 * pollInterval, 30) else {
                return "last successful fetch \(Int(age))s ago\(lastError.map { "; last error: \($0)" } ?? "")"
            }
            return nil
        }
    }
}
