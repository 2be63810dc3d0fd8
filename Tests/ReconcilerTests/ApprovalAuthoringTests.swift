import Foundation
import Testing

@testable import Reconciler

@Suite("Approval files as approve writes them")
struct ApprovalAuthoringTests {
    @Test("two approvals signed in the same second are different file versions, so a renewal is a new commit")
    func renewalIsANewVersion() {
        let request = ApprovalRequest(
            repository: "/tmp", pipeline: "shop", stage: "prod", candidate: String(repeating: "ab", count: 20),
            approver: "alice@acme.test", key: "/dev/null", comment: "Reviewed")
        let now = Date(timeIntervalSince1970: 1_795_700_000)
        let first = ApprovalAuthoring.document(request, stageDigest: "sha256:00", signedAt: now)
        let second = ApprovalAuthoring.document(request, stageDigest: "sha256:00", signedAt: now)
        #expect(first != second)
        #expect(first.hasPrefix("# signed with pipeline-agent approve at 2026-11-26T"))
        #expect(first.split(separator: "\n").dropFirst() == second.split(separator: "\n").dropFirst(), "same approval")
    }
}
