import Foundation

/// A Git object id as 40 lowercase hex characters.
public struct ObjectID: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    public let hex: String

    /// Accepts exactly 40 hex characters (any case); nil otherwise.
    public init?(hex: String) {
        let lowered = hex.lowercased()
        guard lowered.count == 40, lowered.allSatisfy({ $0.isHexDigit && $0.isASCII }) else { return nil }
        self.hex = lowered
    }

    /// The first 12 characters, enough to be unambiguous in messages.
    public var short: String { String(hex.prefix(12)) }
    public var description: String { hex }

    public static func < (lhs: ObjectID, rhs: ObjectID) -> Bool { lhs.hex < rhs.hex }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let id = ObjectID(hex: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an object id"))
        }
        self = id
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }
}

/// Who made a commit and when.
public struct Person: Sendable, Hashable, Codable {
    public let name: String
    public let email: String
    public let time: Date
    /// Offset from UTC in minutes, as recorded in the commit.
    public let utcOffsetMinutes: Int
}

/// The metadata of one commit.
public struct CommitInfo: Sendable, Hashable, Codable {
    public let id: ObjectID
    public let tree: ObjectID
    public let parents: [ObjectID]
    public let author: Person
    public let committer: Person
    public let message: String

    /// The first line of the message.
    public var summary: String { String(message.split(separator: "\n", maxSplits: 1).first ?? "") }
}

/// A reference advertised by a remote, as `git ls-remote` shows it.
public struct RemoteRef: Sendable, Hashable, Codable {
    public let name: String
    public let target: ObjectID?
    /// For a symbolic ref such as HEAD, the ref it points to.
    public let symbolicTarget: String?
}

/// The kind of an entry in a tree.
public enum EntryKind: String, Sendable, Codable {
    case blob, tree, symlink, submodule
}

/// One file (or directory) found when listing a tree.
public struct TreeEntry: Sendable, Hashable, Codable {
    /// Path from the repository root.
    public let path: String
    public let id: ObjectID
    public let kind: EntryKind
    public let executable: Bool
}

/// How a path differs between two commits.
public enum ChangeStatus: String, Sendable, Codable {
    case added, modified, deleted, renamed, typeChanged
}

/// One path that differs between two commits.
public struct ChangedPath: Sendable, Hashable, Codable {
    public let path: String
    /// The path before a rename; equal to `path` otherwise.
    public let oldPath: String
    public let status: ChangeStatus

    /// Both names, so a filter sees a file leaving a directory as well as entering it.
    public var allPaths: [String] { path == oldPath ? [path] : [oldPath, path] }
}

/// The signature embedded in a signed commit and the exact bytes it signs.
public struct CommitSignature: Sendable, Hashable {
    public let signature: String
    public let signedData: Data

    /// True for an SSH signature (as opposed to OpenPGP or X.509).
    public var isSSH: Bool { signature.hasPrefix("-----BEGIN SSH SIGNATURE-----") }
}
