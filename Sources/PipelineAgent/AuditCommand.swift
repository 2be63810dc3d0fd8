import ArgumentParser

/// `pipeline-agent audit …`: read, verify and export the audit log.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Read, verify and export the hash-chained audit log.",
        discussion: "See docs/audit.md for the record format and how to verify the chain without this tool.",
        subcommands: [AuditVerifyCommand.self, AuditLogCommand.self, AuditExportCommand.self]
    )
}
