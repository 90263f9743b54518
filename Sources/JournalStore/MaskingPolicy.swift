import Foundation
import Journal

/// How one reader sees each kind of personal value.
public struct Masking: Sendable, Hashable {
    public var contact: DisclosureMode
    public var employee: DisclosureMode
    public var text: DisclosureMode

    /// The same mode for every kind.
    public init(_ mode: DisclosureMode) {
        self.init(contact: mode, employee: mode, text: mode)
    }

    public init(contact: DisclosureMode, employee: DisclosureMode, text: DisclosureMode) {
        self.contact = contact
        self.employee = employee
        self.text = text
    }

    public subscript(kind: PersonalDataKind) -> DisclosureMode {
        get {
            switch kind {
            case .contact: contact
            case .employee: employee
            case .text: text
            }
        }
        set {
            switch kind {
            case .contact: contact = newValue
            case .employee: employee = newValue
            case .text: text = newValue
            }
        }
    }

    /// The one mode of every kind, or nil when kinds differ.
    var uniform: DisclosureMode? { contact == employee && employee == text ? contact : nil }
}

/// Per role and kind of personal value (contact, employee, text): `plain`, `pseudonym` or `hidden`.
/// The standard policy: staff, auditors and admins plain, analysts pseudonyms, producers (ingest) hidden.
/// A policy file changes it for the roles and kinds it names (Schemas/masking-policy.schema.json):
///
///     {"roles": {"analyst": {"text": "hidden"}, "staff": {"employee": "pseudonym"}}}
public struct MaskingPolicy: Sendable, Hashable {
    /// The roles a policy may name.
    public static let roles = ["ingest", "staff", "analyst", "auditor", "admin"]

    public private(set) var masking: [String: Masking]

    public static let standard = MaskingPolicy(masking: [
        "ingest": Masking(.hidden), "staff": Masking(.plain), "analyst": Masking(.pseudonym),
        "auditor": Masking(.plain), "admin": Masking(.plain),
    ])

    /// How `role` sees personal values; a role the policy does not know sees none.
    public func masking(for role: String) -> Masking { masking[role] ?? Masking(.hidden) }

    /// The standard policy changed by the JSON policy `text`.
    ///
    /// - Throws: ``JournalError/invalidArgument(_:)`` naming the JSON path and the rule broken.
    public init(text: String, origin: String) throws(JournalError) {
        self = .standard
        let policy = try PolicyDocument(text: text, origin: origin, member: "roles", shape: "an object of role → kind → mode")
        for role in policy.rules {
            guard Self.roles.contains(role.key) else {
                throw policy.problem("/roles/\(role.key)", "unknown role; the roles are \(Self.roles.joined(separator: ", "))")
            }
            guard case .object(let kinds) = role.value else { throw policy.problem("/roles/\(role.key)", "must be an object of kind → mode") }
            for kind in kinds {
                guard let parsed = PersonalDataKind(rawValue: kind.key) else {
                    throw policy.problem("/roles/\(role.key)/\(kind.key)", "unknown kind; the kinds are \(PersonalDataKind.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                guard let name = kind.value.stringValue, let mode = DisclosureMode(rawValue: name) else {
                    throw policy.problem("/roles/\(role.key)/\(kind.key)", "must be one of \(DisclosureMode.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                masking[role.key, default: Masking(.hidden)][parsed] = mode
            }
        }
    }

    /// The policy of the file at `path`.
    public init(file path: String) throws(JournalError) {
        try self.init(text: PolicyDocument.text(ofFile: path, what: "masking policy"), origin: path)
    }

    private init(masking: [String: Masking]) { self.masking = masking }
}
