import Foundation
import GitSource
import Reconciler
import Testing

@Suite("Pass failures are classified by what happens next")
struct PassFailureTests {
    @Test("the network retries, a bad credential waits for a person, a lost audit trail stops the agent")
    func classes() {
        let network = GitError(.network, operation: "fetch", message: "connection refused")
        let timeout = GitError(.timeout, operation: "fetch", message: "stalled")
        let credential = GitError(.authentication, operation: "fetch", message: "401")
        let branch = GitError(.unknownBranch, operation: "fetch", message: "no branch wip")
        #expect(PassFailure.classify(network) == .transient("\(network)"))
        #expect(PassFailure.classify(timeout) == .transient("\(timeout)"))
        #expect(PassFailure.classify(credential) == .needsHuman("\(credential)"))
        #expect(PassFailure.classify(branch) == .needsHuman("\(branch)"))
        let audit = AuditError.unwritable(path: "/x/audit.jsonl", reason: "No space left on device")
        #expect(PassFailure.classify(audit) == .fatal("\(audit)"))
        let damaged = StateStoreError.unreadable(path: "/x/state.sqlite", reason: "file is not a database")
        #expect(PassFailure.classify(damaged) == .fatal("\(damaged)"))
    }
}
