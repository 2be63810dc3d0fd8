import Foundation
import SpecModel

/// Decides one stage's phase, desired candidate and action.
struct StageContext {
    let pipeline: Pipeline
    let stage: Stage
    let input: PlanInput
    let pipelineInput: PipelineInput
    let history: PromotionHistory

    var key: StageKey { StageKey(pipeline.name, stage.name) }
    var record: StageRecord { input.stages[key] ?? StageRecord(key: key) }

    func decide() -> (StagePlan, PromotionAction?) {
        var plan = StagePlan(
            name: stage.name, current: record.current, desired: nil, phase: .inSync, health: record.health, reason: "",
            approvals: ApprovalSummary(have: 0, need: stage.requiredApprovals, by: []))
        if !pipelineInput.diagnostics.isEmpty {
            return (blocked(plan, .invalid, invalidReason), nil)
        }
        if let running = history.running[key] {
            plan.desired = running.candidate
            return (
                blocked(plan, .promoting, "promoting \(short(running.candidate)) since \(AuditTime.format(running.startedAt))"),
                nil
            )
        }
        if let drift = drifted(plan) { return drift }
        let target = DesiredCandidate(context: self).resolve()
        plan.desired = target.candidate?.id
        plan.wakeAt = target.wakeAt
        if let approvals = target.approvals { plan.approvals = approvals }
        guard let candidate = target.candidate, target.waiting == nil else {
            return (blocked(plan, target.waiting?.phase ?? .inSync, target.waiting?.reason ?? "no candidate yet"), nil)
        }
        return gate(plan, candidate, reliesOnApprovals: (target.approvals?.need ?? 0) > 0)
    }

    /// The gates between a chosen candidate and a promotion.
    private func gate(_ plan: StagePlan, _ candidate: Candidate, reliesOnApprovals: Bool) -> (StagePlan, PromotionAction?) {
        var plan = plan
        if candidate.id == record.current {
            return (blocked(plan, .inSync, "running \(short(candidate.id))"), nil)
        }
        if history.failed[key]?[candidate.id]?.contains(StageDigest.of(stage)) == true {
            let why = history.lastFailureReason[key].map { ": \($0)" } ?? ""
            return (
                blocked(
                    plan, .failed,
                    "\(short(candidate.id)) failed here\(why); not retried until a new candidate, a spec change "
                        + "or `pipeline-agent retry`"),
                nil
            )
        }
        if stage.isFrozen {
            return (blocked(plan, .frozen, "frozen: freeze is true in the spec"), nil)
        }
        let windows = stage.windows ?? []
        if !WindowSchedule.isOpen(windows, at: input.now) {
            let next = WindowSchedule.nextOpening(windows, after: input.now)
            plan.wakeAt = [plan.wakeAt, next].compactMap { $0 }.min()
            let opens = next.map { ", opens in \(humanDuration($0.timeIntervalSince(input.now)))" } ?? ""
            let described = windows.map(WindowSchedule.describe).joined(separator: " or ")
            return (blocked(plan, .waitingWindow, "waiting for window \(described)\(opens)"), nil)
        }
        plan.phase = .outOfSync
        plan.reason = "will promote \(short(candidate.id)) (\(candidate.summary))"
        var action = PromotionAction(
            key: key, candidate: candidate.id, previous: record.current, pipeline: pipeline, stage: stage,
            reliesOnApprovals: reliesOnApprovals)
        action.basis = history.latest[key]
        return (plan, action)
    }

    /// The deployed candidate differs from the recorded one: report it, and re-promote the
    /// recorded candidate when the stage asks for self-healing.
    private func drifted(_ plan: StagePlan) -> (StagePlan, PromotionAction?)? {
        guard let observed = input.observed[key], let current = record.current, observed != current else { return nil }
        var plan = plan
        plan.desired = current
        plan.phase = .drifted
        let healFailed = history.failed[key]?[current]?.contains(StageDigest.of(stage)) == true
        let heal = stage.observe?.selfHeal == true && !healFailed
        if healFailed {
            plan.reason =
                "observe reports \(short(observed)) deployed, not \(short(current)); self-healing failed, needs a person"
            return (plan, nil)
        }
        plan.reason =
            "observe reports \(short(observed)) deployed, not \(short(current))"
            + (heal ? "; self-healing: promoting \(short(current)) again" : "; set observe.selfHeal to repair it automatically")
        guard heal, !stage.isFrozen else { return (plan, nil) }
        var action = PromotionAction(key: key, candidate: current, previous: current, pipeline: pipeline, stage: stage)
        action.basis = history.latest[key]
        return (plan, action)
    }

    private var invalidReason: String {
        let first = pipelineInput.diagnostics.first.map(\.description) ?? "invalid spec"
        let more = pipelineInput.diagnostics.count > 1 ? " (+\(pipelineInput.diagnostics.count - 1) more)" : ""
        return "spec invalid at the branch head, keeping the last valid one: \(first)\(more)"
    }

    private func blocked(_ plan: StagePlan, _ phase: Phase, _ reason: String) -> StagePlan {
        var plan = plan
        plan.phase = phase
        plan.reason = reason
        return plan
    }
}

func short(_ id: String) -> String { String(id.prefix(12)) }
