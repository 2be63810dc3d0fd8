import Foundation

/// A `kind: Pipeline` document: one deliverable's source and its graph of stages.
public struct Pipeline: Sendable, Hashable, Codable {
    public var apiVersion: String
    public var kind: String
    public var metadata: Metadata
    public var spec: PipelineSpec

    public var name: String { metadata.name }

    /// The stage with this name, if the pipeline has one.
    public func stage(named name: String) -> Stage? {
        spec.stages.first { $0.name == name }
    }
}

/// Name, description and labels of a pipeline.
public struct Metadata: Sendable, Hashable, Codable {
    public var name: String
    public var description: String?
    public var labels: [String: String]?
}

/// Where candidates come from and where they go.
public struct PipelineSpec: Sendable, Hashable, Codable {
    public var source: SourceSpec
    public var stages: [Stage]
}

/// The watched branch and the paths whose changes make candidates.
public struct SourceSpec: Sendable, Hashable, Codable {
    public var branch: String
    public var paths: [String]?

    /// Globs that decide which commits are candidates; empty means every commit.
    public var pathGlobs: [PathGlob] { (paths ?? []).compactMap(PathGlob.init) }
}

/// One environment of a pipeline.
public struct Stage: Sendable, Hashable, Codable {
    public var name: String
    public var from: String?
    public var promotion: PromotionMode?
    public var vars: [String: String]?
    public var soak: SpecDuration?
    public var timeout: SpecDuration?
    public var approvals: ApprovalPolicy?
    public var windows: [Window]?
    public var freeze: Bool?
    public var steps: [Step]
    public var verify: [Check]?
    public var rollback: [Step]?
    public var health: HealthSpec?
    public var notify: [String]?
    public var observe: ObserveSpec?
    public var pin: String?
    public var checkout: CheckoutSpec?

    /// `auto` unless the spec says otherwise.
    public var promotionMode: PromotionMode { promotion ?? .auto }
    /// True when the stage is frozen.
    public var isFrozen: Bool { freeze ?? false }
    /// How many approvals a promotion needs; a manual stage needs at least one, because `manual` means a person decides.
    public var requiredApprovals: Int { max(approvals?.required ?? 0, promotionMode == .manual ? 1 : 0) }
}

/// Which files of the candidate a stage's steps, checks and observers get: all of them unless
/// `paths` narrows them (a sparse checkout, so a monorepo of a thousand teams is not written out
/// for each promotion). Bound by approvals like the steps: narrowing it changes what runs.
public struct CheckoutSpec: Sendable, Hashable, Codable {
    public var paths: [String]

    /// The globs of `paths`; files matching none of them are not checked out.
    public var pathGlobs: [PathGlob] { paths.compactMap(PathGlob.init) }
}

/// N-of-M signed approvals a stage needs.
public struct ApprovalPolicy: Sendable, Hashable, Codable {
    public var required: Int
    public var approvers: [String]
    public var allowSelfApproval: Bool?
}

/// A weekly promotion window in a time zone.
public struct Window: Sendable, Hashable, Codable {
    public var days: [Weekday]
    public var from: ClockTime
    public var to: ClockTime
    public var timezone: String?

    /// The IANA zone name, UTC when the spec gives none.
    public var timeZoneIdentifier: String { timezone ?? "UTC" }
}

/// A command run in the candidate checkout.
public struct Step: Sendable, Hashable, Codable {
    public var name: String
    public var run: String
    public var workdir: String?
    public var timeout: SpecDuration?
    public var retries: Int?
}

/// A verification or health check: a command, a dbt results file or an HTTP endpoint.
public struct Check: Sendable, Hashable, Codable {
    public var name: String
    public var run: String?
    public var dbtResults: String?
    public var http: String?
    public var workdir: String?
    public var timeout: SpecDuration?
    public var warnIf: Threshold?
    public var errorIf: Threshold?
    public var expectStatus: Int?
    public var maxLatency: SpecDuration?
}

/// Periodic monitoring of what a stage runs.
public struct HealthSpec: Sendable, Hashable, Codable {
    public var interval: SpecDuration
    public var checks: [Check]
}

/// A command that reports the candidate really deployed, for drift detection.
public struct ObserveSpec: Sendable, Hashable, Codable {
    public var run: String
    public var workdir: String?
    public var timeout: SpecDuration?
    public var selfHeal: Bool?
}

/// A `kind: Approval` document: a principal's statement that a candidate may enter a stage.
public struct Approval: Sendable, Hashable, Codable {
    public var apiVersion: String
    public var kind: String
    public var pipeline: String
    public var stage: String
    public var candidate: String
    public var approver: String
    public var comment: String?
    public var expires: Date?
    /// `sha256:…` of the stage's bound fields the approver vouches for (see `ApprovalDigest`).
    public var stageDigest: String?
}
