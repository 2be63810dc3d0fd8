import Foundation
import SpecModel

/// What one pipeline's plan was made from. Equal facts give an equal plan, except where the clock
/// enters (soak, windows, approval expiry): such plans are never reused.
struct PipelineFacts: Equatable, Sendable {
    let input: PipelineInput
    /// The recorded stage rows, in spec order.
    let records: [StageRecord?]
    let promotions: PromotionStamp
    /// What each stage's `observe` reported, in spec order.
    let observed: [String?]
    /// What the approval rules judge this pipeline's stages from.
    let approvals: ApprovalFacts
    /// Operators' retries on each stage, in spec order.
    let retries: [[String: Date]?]
}

extension PipelineFacts {
    /// Whether these facts are `pipeline`'s in `input`, compared in place (building the facts to compare
    /// copied the spec and the rows of every pipeline each pass).
    func hold(
        for pipelineInput: PipelineInput, _ pipeline: Pipeline, in input: PlanInput, promotions: PromotionStamp,
        approvals: ApprovalFacts
    ) -> Bool {
        guard self.promotions == promotions, records.count == pipeline.spec.stages.count, self.input == pipelineInput,
            self.approvals == approvals
        else { return false }
        for (index, stage) in pipeline.spec.stages.enumerated() {
            let key = StageKey(pipeline.name, stage.name)
            guard records[index] == input.stages[key], observed[index] == input.observed[key],
                retries[index] == input.retries[key]
            else { return false }
        }
        return true
    }
}

/// A pipeline's promotion rows change only by a new row or a running row ending, so these three numbers
/// change whenever its promotion history does.
struct PromotionStamp: Equatable, Sendable {
    var count = 0
    var lastID: Int64 = 0
    var running = 0

    mutating func add(_ promotion: PromotionRecord) {
        count += 1
        lastID = max(lastID, promotion.id)
        if promotion.status == .running { running += 1 }
    }
}

/// The facts an approval evaluator judges one pipeline from (nil from `ApprovalEvaluator.facts`: do not reuse).
public struct ApprovalFacts: Equatable, Sendable {
    /// Bumped when the branch history was rewritten (the promoted ranges' authors may differ).
    let historyGeneration: Int
    let approvals: [CheckedApproval]

    init(historyGeneration: Int, approvals: [CheckedApproval]) {
        self.historyGeneration = historyGeneration
        self.approvals = approvals
    }

    /// For evaluators that judge nothing from outside the pipeline's own facts.
    public static let nothingJudged = ApprovalFacts(historyGeneration: 0, approvals: [])
}

/// The last plan's pipelines with the facts each was planned from: the next plan reuses a pipeline's
/// stages and actions while its facts are equal, so a pass after a push to one pipeline plans that one.
/// A value passed in and returned, so the planner stays a pure function.
public struct PlanMemo: Sendable {
    /// A class: entries move between memos once a pass, and copying the facts and the plan retained
    /// every string in them.
    final class Entry: Sendable {
        let facts: PipelineFacts
        let plan: PipelinePlan
        let actions: [PromotionAction]

        init(facts: PipelineFacts, plan: PipelinePlan, actions: [PromotionAction]) {
            self.facts = facts
            self.plan = plan
            self.actions = actions
        }

        /// A plan that waits for the clock (soak, window) names durations from now and must be made again.
        var dependsOnClock: Bool {
            plan.stages.contains { $0.wakeAt != nil || $0.phase == .waitingWindow }
        }
    }

    var entries: [String: Entry] = [:]
    var floor: ProtectFloor?
    /// The pipelines the plan that returned this memo reused.
    public internal(set) var reusedPipelines: Set<String> = []
    /// How many.
    public var reused: Int { reusedPipelines.count }

    public init() {}
}

/// Each pipeline's promotion stamp, in one pass over the promotions.
struct PromotionStamps {
    private(set) var stamps: [String: PromotionStamp] = [:]

    init(_ promotions: [PromotionRecord]) {
        for promotion in promotions {
            stamps[promotion.key.pipeline, default: PromotionStamp()].add(promotion)
        }
    }

    /// The promotions of `pipelines`, grouped by pipeline, each in id order (one pass, whatever their number).
    static func groups(of pipelines: Set<String>, in promotions: [PromotionRecord]) -> [String: [PromotionRecord]] {
        var groups: [String: [PromotionRecord]] = [:]
        guard !pipelines.isEmpty else { return groups }
        for promotion in promotions where pipelines.contains(promotion.key.pipeline) {
            groups[promotion.key.pipeline, default: []].append(promotion)
        }
        return groups
    }
}
