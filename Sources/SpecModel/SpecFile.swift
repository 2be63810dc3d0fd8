import Foundation
import Yams

/// A pipeline read from a file, with where it was defined.
public struct PipelineDocument: Sendable, Hashable, Codable {
    public let pipeline: Pipeline
    public let file: String
    public let location: SourceLocation
    /// Where each value sits, keyed like `spec.stages[1].from`, for later diagnostics.
    public let locations: [String: SourceLocation]
}

/// An approval read from a file, with the file it came from.
public struct ApprovalDocument: Sendable, Hashable, Codable {
    public let approval: Approval
    public let file: String
    public let location: SourceLocation
}

/// Everything found in one spec file (Codable: the agent remembers parsed files across restarts).
public struct SpecFile: Sendable, Codable {
    /// Larger files are refused: specs are small, and a huge file is a mistake or an attack.
    public static let maxBytes = 1 << 20

    public let path: String
    public private(set) var pipelines: [PipelineDocument] = []
    public private(set) var approvals: [ApprovalDocument] = []
    public private(set) var diagnostics: [Diagnostic] = []
    /// Whether any document declares our apiVersion or kind (or, in a file YAML cannot read, a line does).
    public private(set) var declaresSpec = false
    /// Names (`metadata.name`) of Pipeline documents that did not decode: they exist, but are invalid.
    public private(set) var invalidPipelineNames: [String] = []

    /// Parses and validates the bytes of one file; never throws, never traps.
    public init(path: String, bytes: Data) {
        self.path = path
        guard bytes.count <= Self.maxBytes else {
            report(.start, "file is \(bytes.count) bytes, over the \(Self.maxBytes)-byte limit for spec files")
            return
        }
        guard let text = Self.decodeUTF8(bytes) else {
            report(Self.firstInvalidUTF8(in: bytes), "file is not valid UTF-8; save it as UTF-8")
            return
        }
        parseDocuments(text)
    }

    /// True when the file holds no errors.
    public var isValid: Bool { !diagnostics.hasErrors }

    private mutating func parseDocuments(_ text: String) {
        declaresSpec = Self.mentionsSpec(text)
        let parser: Parser
        do {
            parser = try SharedYAML.parser(text)
        } catch {
            return reportYAML(error)
        }
        var index = 0
        while true {
            do {
                guard let root = try parser.nextRoot() else { return }
                consume(root, index: index)
                index += 1
            } catch {
                return reportYAML(error)
            }
        }
    }

    private mutating func consume(_ root: Node, index: Int) {
        let at = root.mark.map { SourceLocation(line: $0.line, column: $0.column) } ?? .start
        if ScalarKind(of: root) == .null { return }
        guard case .mapping = root else {
            return report(
                at, "document \(index + 1) must be a mapping with apiVersion and kind, found \(ScalarKind.describe(root))")
        }
        let kind = root["kind"]?.scalar?.string
        let apiVersion = root["apiVersion"]?.scalar?.string
        if kind == "Pipeline" || kind == "Approval" || apiVersion?.hasPrefix("pipeline-agent") == true {
            declaresSpec = true
        }
        switch kind {
        case "Pipeline": decodePipeline(root, at: at)
        case "Approval": decodeApproval(root, at: at)
        case nil: report(at, "document \(index + 1) has no 'kind'; expected Pipeline or Approval")
        case let other?:
            let where_ = root["kind"]?.mark.map { SourceLocation(line: $0.line, column: $0.column) } ?? at
            report(where_, "unknown kind '\(other)'; expected Pipeline or Approval\(suggestion(other, ["Pipeline", "Approval"]))")
        }
    }

    private mutating func decodePipeline(_ root: Node, at: SourceLocation) {
        var validator = StructuralValidator(file: path)
        validator.check(root, against: SpecSchema.pipeline, path: "", fallback: at)
        diagnostics += validator.diagnostics
        var rules = PipelineRules(draft: PipelineDraft(root), file: path, locations: validator.locations)
        rules.run()
        diagnostics += rules.diagnostics
        guard validator.diagnostics.isEmpty,
            let pipeline = decode(Pipeline.self, root, at: at)
        else {
            if let name = root["metadata"]?["name"]?.scalar?.string { invalidPipelineNames.append(name) }
            return
        }
        pipelines.append(PipelineDocument(pipeline: pipeline, file: path, location: at, locations: validator.locations))
    }

    private mutating func decodeApproval(_ root: Node, at: SourceLocation) {
        var validator = StructuralValidator(file: path)
        validator.check(root, against: SpecSchema.approval, path: "", fallback: at)
        diagnostics += validator.diagnostics
        guard validator.diagnostics.isEmpty, let approval = decode(Approval.self, root, at: at) else { return }
        approvals.append(ApprovalDocument(approval: approval, file: path, location: at))
    }

    private mutating func decode<T: Decodable>(_ type: T.Type, _ root: Node, at: SourceLocation) -> T? {
        do {
            return try SharedYAML.decoder.decode(type, from: root)
        } catch {
            report(at, "could not read the document: \(error)")
            return nil
        }
    }

    /// A line `kind: Pipeline`, `kind: Approval` or `apiVersion: pipeline-agent/…` at the start of a line:
    /// such a file is ours even when its YAML is broken, and must be reported rather than skipped.
    static func mentionsSpec(_ text: String) -> Bool {
        text.split(whereSeparator: \.isNewline).contains { line in
            let trimmed = line.drop { $0 == " " || $0 == "-" }
            return trimmed.hasPrefix("kind: Pipeline") || trimmed.hasPrefix("kind: Approval")
                || trimmed.hasPrefix("apiVersion: pipeline-agent")
        }
    }

    mutating func report(_ location: SourceLocation, _ message: String) {
        diagnostics.append(Diagnostic(.error, file: path, at: location, message))
    }
}
