import Foundation
import GitSource
import SpecModel

/// The state after a pass with nothing to do, and what would end it: a branch tip moving (a commit, an
/// approval file), or the clock reaching a soak, window or approval expiry. Stages that observe drift run
/// their command every pass, so a pipeline with `observe` never makes a pass quiet.
struct QuietPoint {
    let plan: Plan
    let tips: [String: ObjectID]
    let wake: Date?
    let storeVersion: Int64?

    init?(after plan: Plan, tips: [String: ObjectID], session: AgentSession, storeVersion: Int64?) throws {
        let inputs = try session.pipelineInputs().inputs
        guard !inputs.contains(where: { $0.pipeline?.spec.stages.contains { $0.observe != nil } ?? false }) else { return nil }
        let now = session.clock()
        let expiries = try session.approvals(now: now).approvals.compactMap(\.approval?.expires).filter { $0 > now }
        self.plan = plan
        self.tips = tips
        self.storeVersion = storeVersion
        wake = ([plan.nextWake] + expiries).compactMap { $0 }.min()
    }

    func holds(tips: [String: ObjectID], now: Date, storeVersion: Int64?) -> Bool {
        tips == self.tips && storeVersion == self.storeVersion && wake.map { now < $0 } ?? true
    }
}

/// A promotion ended `host-failed`: the pass stops so that it is retried with backoff, not at once.
public struct HostFailure: Error, CustomStringConvertible {
    public let key: StageKey
    public let candidate: String

    public var description: String {
        "the promotion of \(candidate.prefix(12)) to \(key) stopped because of the host (see its audit records: "
            + "disk space, permissions); the pass is retried with backoff and the candidate will be promoted again"
    }
}
