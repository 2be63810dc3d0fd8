import Crypto
import Foundation
import SpecModel

/// What an approval vouches for, inside its signed bytes: the digest of the stage's bound fields
/// (`StageBinding.fields`) in canonical JSON. Git history plays no part, so renaming, moving or
/// re-adding a signed file changes nothing about what it approves. `docs/approvals.md` specifies
/// the form so that a third party can recompute it.
public enum ApprovalDigest {
    /// The canonical JSON of the stage's bound fields: an object with only the fields the spec sets,
    /// keys sorted, no whitespace, strings escaped as `jq -cS` prints them.
    public static func canonical(_ stage: Stage) -> String {
        CanonicalJSON.serialize(.object(boundFields(of: stage)))
    }

    /// `sha256:` and the hex SHA-256 of `canonical(stage)`'s UTF-8 bytes.
    public static func of(_ stage: Stage) -> String {
        "sha256:" + SHA256.hash(data: Data(canonical(stage).utf8)).hexString
    }

    /// The stage as the spec wrote it (durations and times as their text), restricted to the bound fields.
    private static func boundFields(of stage: Stage) -> [String: JSONValue] {
        guard let data = try? JSONEncoder().encode(stage),
            case .object(let members)? = try? JSONDecoder().decode(JSONValue.self, from: data)
        else { return ["name": .string(stage.name)] }
        return members.filter { StageBinding.fields.contains($0.key) && $0.value != .null }
    }
}
