import Foundation
import GitSource
import SpecModel

/// A stage whose health changed, for the recorder.
struct HealthChange {
    let action: PromotionAction
    let from: Health
    let to: Health
    let results: [CheckResult]
}

/// Runs each deployed stage's `health.checks` every `health.interval` against the candidate it runs;
/// the worst check is the stage's health. It only acts: the changes it returns are recorded by
/// `PassRecorder.healthChanged`.
final class HealthMonitor {
    private let context: ExecutionContext
    private var lastRun: [StageKey: Date] = [:]

    init(context: ExecutionContext) {
        self.context = context
    }

    /// Runs the checks that are due; returns the health changes and when the next checks are due.
    /// Stages `skip` names wait for a later pass (promoting, or their user is busy with a promotion).
    func runDue(
        _ inputs: [PipelineInput], now: Date, repository: GitRepository, skip: (StageKey) -> Bool = { _ in false }
    ) throws -> (changes: [HealthChange], next: Date?) {
        // Most stages have no health checks; a pass over a thousand pipelines without any reads no state.
        guard inputs.contains(where: { $0.pipeline?.spec.stages.contains { $0.health != nil } ?? false }) else {
            return ([], nil)
        }
        let stages = try context.store.stages()
        var next: Date?
        var changes: [HealthChange] = []
        for pipeline in inputs.compactMap(\.pipeline) {
            for stage in pipeline.spec.stages {
                let key = StageKey(pipeline.name, stage.name)
                guard let health = stage.health, let record = stages[key], let current = record.current else { continue }
                let due = lastRun[key].map { $0.addingTimeInterval(health.interval.timeInterval) } ?? now
                if due <= now, !skip(key) {
                    lastRun[key] = now
                    let action = PromotionAction(
                        key: key, candidate: current, previous: current, pipeline: pipeline, stage: stage)
                    let results = check(health.checks, of: action, repository: repository)
                    let worst = results.map(\.health).max() ?? .unknown
                    if worst != record.health {
                        changes.append(HealthChange(action: action, from: record.health, to: worst, results: results))
                    }
                }
                let upcoming = (lastRun[key] ?? now).addingTimeInterval(health.interval.timeInterval)
                next = [next, upcoming].compactMap { $0 }.min()
            }
        }
        return (changes, next)
    }

    /// Runs the checks as the stage's step user in a fresh checkout of the deployed candidate.
    private func check(_ checks: [Check], of action: PromotionAction, repository: GitRepository) -> [CheckResult] {
        let user = context.isolation.user(for: action.key)
        return context.checkouts.withCheckout(
            action.candidate, from: repository, owner: user, only: action.stage.checkout
        ) { checkout in
            guard let checkout else {
                return checks.map {
                    CheckResult(
                        name: $0.name, level: .failed, measured: nil, message: "cannot check out \(short(action.candidate))")
                }
            }
            return checks.map { check in
                Verification.run(
                    check, checkout: checkout,
                    environment: context.environment.variables(for: action, promotionID: 0, checkout: checkout),
                    notBefore: .distantPast, logDirectory: "\(context.stateDirectory)/logs", runner: context.runner, user: user,
                    redactor: context.environment.redactor)
            }
        }
    }
}
