import Foundation
import Reconciler

/// What the reconcile thread and the HTTP handlers share: the wake-up signal, the stop flag, and
/// what readiness is judged on (the loop is alive, the source is fresh).
final class AgentRuntime: @unchecked Sendable {
    let cancellation: CancellationFlag
    let metrics = AgentMetrics()
    let pollInterval: TimeInterval
    private let condition = NSCondition()
    /// A wake-up asked for while the loop was busy: a burst of webhooks queues one pass, not one each.
    private var wakePending = false
    /// A verified push webhook arrived since the last pass: the next fetch need not list the refs first.
    private var pushPending = false
    private var loopRunning = false
    private var loopEnded: String?
    private var lastGoodFetch: Date?
    private var failingSince: Date?
    private var lastError: String?
    private var lastPlan: Plan?

    init(pollInterval: TimeInterval, shutdownGrace: Duration) {
        self.pollInterval = pollInterval
        cancellation = CancellationFlag(gracePeriod: shutdownGrace)
    }

    /// Asks for a pass now (a webhook arrived, or the agent is stopping); coalesces with any pending one.
    func wakeUp() {
        condition.withLock {
            wakePending = true
            condition.signal()
        }
    }

    /// A signed push webhook: a pass now, fetching at once (the sender says the branch moved).
    func pushed() {
        condition.withLock {
            pushPending = true
            wakePending = true
            condition.signal()
        }
    }

    /// Whether a push arrived since the last call.
    func takePush() -> Bool {
        condition.withLock {
            defer { pushPending = false }
            return pushPending
        }
    }

    /// Sleeps until `seconds` pass or a wake-up is pending; consumes the wake-up.
    func sleep(seconds: Double) {
        let deadline = Date(timeIntervalSinceNow: seconds)
        condition.withLock {
            while !wakePending, condition.wait(until: deadline) {}
            wakePending = false
        }
    }

    func stop() {
        cancellation.cancel()
        wakeUp()
    }

    func loopStarted() { condition.withLock { loopRunning = true } }

    /// The plan of the last pass, for the web page (`StatusReport.current(planned:)`).
    func planned(_ plan: Plan?) {
        guard let plan else { return }
        condition.withLock { lastPlan = plan }
    }

    var latestPlan: Plan? { condition.withLock { lastPlan } }
    func loopStopped(_ reason: String) { condition.withLock { (loopRunning, loopEnded) = (false, reason) } }

    func fetchSucceeded(at now: Date = Date()) {
        condition.withLock { (lastGoodFetch, failingSince, lastError) = (now, nil, nil) }
    }

    func fetchFailed(_ error: Error, at now: Date = Date()) {
        condition.withLock {
            if failingSince == nil { failingSince = now }
            lastError = "\(error)"
        }
    }

    /// How long fetches may fail before the agent reports itself not ready.
    var staleAfter: TimeInterval { max(3 * pollInterval, 30) }

    /// Ready while the loop runs and the source is fresh: the last fetch succeeded, or fetches have
    /// failed for less than `staleAfter`. A long promotion does not make the agent unready.
    func readiness(now: Date = Date()) -> String? {
        condition.withLock {
            guard loopRunning else { return loopEnded.map { "the reconcile loop stopped: \($0)" } ?? "starting" }
            if let failingSince, now.timeIntervalSince(failingSince) > staleAfter {
                let last = lastGoodFetch.map { "last successful fetch \(Int(now.timeIntervalSince($0)))s ago" } ?? "no fetch yet"
                return "fetches failing for \(Int(now.timeIntervalSince(failingSince)))s (\(last)): \(lastError ?? "")"
            }
            guard lastGoodFetch != nil || failingSince != nil else { return "no fetch yet" }
            return nil
        }
    }
}
