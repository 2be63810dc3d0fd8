import ArgumentParser
import Foundation
import Reconciler

/// `pipeline-agent audit verify`: recompute the chain and check its anchor.
struct AuditVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Recompute the hash chain and check it against the anchor in the state store.",
        discussion: "Exit status: 0 intact, 1 broken (the first bad seq and what is wrong are printed), 2 usage error."
    )

    @OptionGroup var options: ConfigOptions

    func run() throws {
        let config = try options.load()
        let store = try SQLiteStateStore(directory: config.stateDirectory)
        let path = "\(config.stateDirectory)/\(AuditLog.fileName)"
        let result = try AuditVerifier.verify(fileAt: path, anchor: store.auditAnchor())
        if let problem = result.problem {
            print("audit log broken at seq \(problem.seq): \(problem.kind.rawValue): \(problem.message)")
            print("(\(result.count) records verified before it; log \(path))")
            throw ExitCode.failure
        }
        print("\(result.count) records, chain intact, head \(result.head?.hash ?? AuditRecord.genesis)")
    }
}
