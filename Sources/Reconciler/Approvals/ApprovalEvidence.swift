import Foundation
import SpecModel

/// Proof that a principal approved: what the promotion relied on, as the audit log records it.
public struct ApprovalEvidence: Sendable, Hashable, Codable {
    public let principal: String
    public let keyFingerprint: String
    public let file: String
    /// The commit that added the approval file to the watched branch.
    public let addedIn: String?

    public var json: JSONValue {
        .object([
            "principal": .string(principal), "keyFingerprint": .string(keyFingerprint), "file": .string(file),
            "addedIn": addedIn.map(JSONValue.string) ?? .null,
        ])
    }
}

/// An approval file at the branch head after the checks that do not depend on a stage:
/// size, links, YAML, and the signature against the agent's `allowed_signers`.
public struct CheckedApproval: Sendable, Hashable {
    public let file: String
    /// Identifies this version of the file (blob ids of the file and its signature).
    public let version: String
    public let approval: Approval?
    public let evidence: ApprovalEvidence?
    /// Why the file does not count, whatever stage it names; nil when the signature holds.
    public let rejection: String?
    /// The named stage's spec at the commit that added the file: what the approver vouched for.
    public var approvedSpec: ApprovedSpec? = nil
}

/// A stage's spec as it was when an approval file was added.
public enum ApprovedSpec: Sendable, Hashable {
    case stage(Stage)
    /// The stage could not be read at that commit (it did not exist, or its spec was invalid).
    case unavailable(String)
}

/// The verdict on one approval file for the stage it names.
public struct ApprovalJudgement: Sendable, Hashable {
    public let file: String
    public let version: String
    public let approval: Approval?
    public let accepted: Bool
    public let reason: String
}
