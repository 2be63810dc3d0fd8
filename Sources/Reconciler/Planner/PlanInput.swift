import Crypto
import Foundation
import SpecModel

/// One pipeline as the planner sees it: the spec in force and its candidates.
public struct PipelineInput: Sendable, Equatable {
    public let name: String
    /// The spec in force: the head's when valid, else the last valid one (nil if there never was one).
    public let pipeline: Pipeline?
    /// Newest first.
    public let candidates: [Candidate]
    /// Errors in the head's version of this pipeline's spec; non-empty means `Invalid`.
    public let diagnostics: [Diagnostic]

    public init(name: String, pipeline: Pipeline?, candidates: [Candidate], diagnostics: [Diagnostic] = []) {
        self.name = name
        self.pipeline = pipeline
        self.candidates = candidates
        self.diagnostics = diagnostics
    }
}

/// Approvals for a candidate in a stage, as the approval rules judge them.
public struct ApprovalStatus: Sendable, Hashable {
    public var have: Int
    public var need: Int
    public var by: [String]
    /// Why files that looked like approvals did not count.
    public var rejections: [String]
    /// Approvers who could still approve.
    public var eligible: [String]
    /// The approvals that count, with their proof (for the audit record of the promotion).
    public var evidence: [ApprovalEvidence]
    /// Signed approvals that no longer count because the stage's spec changed after them.
    public var stale: [StaleApproval] = []

    public init(
        have: Int, need: Int, by: [String], rejections: [String] = [], eligible: [String] = [],
        evidence: [ApprovalEvidence] = []
    ) {
        self.have = have
        self.need = need
        self.by = by
        self.rejections = rejections
        self.eligible = eligible
        self.evidence = evidence
    }

    public var isSatisfied: Bool { have >= need }
}

/// Judges approvals; the signed-approval rules plug in here.
public protocol ApprovalEvaluator: Sendable {
    /// `candidates` are the pipeline's candidates, newest first (for the promoted range's authors);
    /// `need` is `stage.requiredApprovals`, so every caller applies the same count.
    func status(
        pipeline: Pipeline, stage: Stage, candidate: Candidate, current: String?, candidates: [Candidate]
    )
        -> ApprovalStatus

    /// Everything beyond the pipeline's own spec, candidates and stage rows that `status` judges the
    /// pipeline's stages from, as of now; nil when the verdicts may change with the clock alone (an
    /// approval that expires), so that a plan made from them is not reused.
    func facts(pipeline: String) -> ApprovalFacts?
}

extension ApprovalEvaluator {
    /// Unknown: a plan judged by this evaluator is made again every time.
    public func facts(pipeline: String) -> ApprovalFacts? { nil }
}

/// An evaluator under which nothing is approved (planner tests, stages without approvals).
public struct NoApprovals: ApprovalEvaluator {
    public init() {}

    public func status(
        pipeline: Pipeline, stage: Stage, candidate: Candidate, current: String?, candidates: [Candidate]
    ) -> ApprovalStatus {
        ApprovalStatus(have: 0, need: stage.requiredApprovals, by: [])
    }

    public func facts(pipeline: String) -> ApprovalFacts? { .nothingJudged }
}

/// Everything the planner needs: specs, actual state, history, approvals and the time.
public struct PlanInput: Sendable {
    public var pipelines: [PipelineInput]
    public var stages: [StageKey: StageRecord]
    public var promotions: [PromotionRecord]
    public var approvals: any ApprovalEvaluator
    public var now: Date
    /// What each stage's `observe` command reported as really deployed (drift detection).
    public var observed: [StageKey: String]
    /// The agent config's `protect` rules: each stage runs at the stricter of its spec and this floor.
    public var floor: ProtectFloor
    /// When an operator last asked to retry each candidate on each stage (`pipeline-agent retry`).
    public var retries: [StageKey: [String: Date]] = [:]

    public init(
        pipelines: [PipelineInput], stages: [StageKey: StageRecord], promotions: [PromotionRecord],
        approvals: any ApprovalEvaluator = NoApprovals(), now: Date, observed: [StageKey: String] = [:],
        floor: ProtectFloor = .none
    ) {
        self.floor = floor
        self.pipelines = pipelines
        self.stages = stages
        self.promotions = promotions
        self.approvals = approvals
        self.now = now
        self.observed = observed
    }
}

/// A digest of what a stage runs, so that a failure blocks only the spec it failed with.
public enum StageDigest {
    public static func of(_ stage: Stage) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(stage)) ?? Data(stage.name.utf8)
        return SHA256.hash(data: data).hexString
    }
}
