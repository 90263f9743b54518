import Foundation

/// The event types the journal accepts: one compiled JSON Schema per type and version.
///
/// Files are named `events/<type>.v<N>.json`, e.g. `events/technician.visit.completed.v1.json`.
/// A schema may declare, with `"x-references-event"`, payload fields that must name an earlier
/// event of the same customer (as `touchpoint.corrected` does), and with `"x-requires-envelope"` the
/// envelope fields an event of the type must carry (as `case.closed` needs its `caseId`). A string
/// property marked `"x-personal"` (`contact`, `employee` or `text`) holds personal data (see
/// ``PersonalField``); any other `x-` keyword is refused.
///
/// ```swift
/// let registry = try SchemaRegistry(files: [("events/note.added.v1.json", schemaText)])
/// registry.latestVersion(of: "note.added")   // 1
/// ```
public struct SchemaRegistry: Sendable {
    public struct Entry: Sendable {
        public let type: String
        public let version: Int
        public let schema: JSONSchema
        /// Payload fields whose value is the eventId of an earlier event of the same customer.
        public let referenceFields: [String]
        /// The schema's `title`, for people.
        public let title: String?
        /// The schema's `x-touchpoint` annotation, when it names a core touchpoint kind.
        public let touchpointKind: String?
        /// Envelope fields (`caseId`, `assetId`, `siteId`) every event of the type must carry.
        public let requiredEnvelopeFields: [String]
        /// Payload fields that hold personal data (`x-personal`).
        public let personalFields: [PersonalField]
    }

    /// The envelope fields `x-requires-envelope` may name.
    public static let requirableEnvelopeFields: Set<String> = ["caseId", "assetId", "siteId", "actor", "source"]

    private var entries: [String: [Int: Entry]] = [:]

    /// The personal fields below each top-level payload member any schema marks, by the member's
    /// name: a correction names the fields it corrects, not their schema, so a value it carries is
    /// personal when that field is personal in any schema.
    public private(set) var personalFieldsByMember: [String: [PersonalField]] = [:]

    /// A registry with no types.
    public static let empty = SchemaRegistry()

    private init() {}

    /// Compiles the given schema files.
    ///
    /// - Throws: ``SchemaRegistryError`` naming the file that is misnamed or not a supported schema.
    public init(files: [(path: String, contents: String)]) throws(SchemaRegistryError) {
        for file in files { try add(path: file.path, contents: file.contents) }
    }

    /// Adds one schema file. A type and version already registered cannot be replaced: stored events
    /// were validated against it; a changed contract needs a new version.
    public mutating func add(path: String, contents: String) throws(SchemaRegistryError) {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        guard name.hasSuffix(".json"), let vRange = name.range(of: ".v", options: .backwards) else {
            throw SchemaRegistryError(path: path, message: "schema files are named <type>.v<N>.json")
        }
        let type = String(name[..<vRange.lowerBound])
        guard let version = Int(name[vRange.upperBound...].dropLast(5)), version >= 1 else {
            throw SchemaRegistryError(path: path, message: "schema files are named <type>.v<N>.json with N ≥ 1")
        }
        guard Self.isValidTypeName(type) else {
            throw SchemaRegistryError(
                path: path, message: "event type '\(type)' must be dotted lower-case words, e.g. technician.visit.completed")
        }
        let document: JSONValue
        do {
            document = try JSONParser.parse(contents)
        } catch {
            throw SchemaRegistryError(path: path, message: "not valid JSON: \(error)")
        }
        let schema: JSONSchema
        do {
            schema = try JSONSchema(compiling: document)
        } catch {
            throw SchemaRegistryError(path: path, message: error.description)
        }
        var references: [String] = []
        switch document["x-references-event"] {
        case nil: break
        case .string(let field)?: references = [field]
        case .array(let fields)? where fields.allSatisfy({ $0.stringValue != nil }):
            references = fields.compactMap(\.stringValue)
        default:
            throw SchemaRegistryError(path: path, message: "x-references-event must name a payload field or an array of them")
        }
        var envelopeFields: [String] = []
        switch document["x-requires-envelope"] {
        case nil: break
        case .array(let fields)? where fields.allSatisfy({ $0.stringValue.map(Self.requirableEnvelopeFields.contains) == true }):
            envelopeFields = fields.compactMap(\.stringValue)
        default:
            throw SchemaRegistryError(
                path: path,
                message: "x-requires-envelope must be an array of envelope fields from \(Self.requirableEnvelopeFields.sorted().joined(separator: ", "))")
        }
        let personal: [PersonalField]
        do {
            personal = try Self.personalFields(in: document)
        } catch {
            throw SchemaRegistryError(path: path, message: error.message)
        }
        let entry = Entry(
            type: type, version: version, schema: schema, referenceFields: references,
            title: document["title"]?.stringValue, touchpointKind: document["x-touchpoint"]?.stringValue,
            requiredEnvelopeFields: envelopeFields, personalFields: personal)
        if entries[type]?[version] != nil {
            throw SchemaRegistryError(
                path: path, message: "\(type) v\(version) is already registered; a changed contract needs a new version (v\(version + 1))")
        }
        entries[type, default: [:]][version] = entry
        for field in personal {
            guard case .member(let name)? = field.path.first else { continue }
            let below = PersonalField(path: Array(field.path.dropFirst()), kind: field.kind)
            // One kind per path, the first registered: a value is sealed once, under one subject.
            if personalFieldsByMember[name]?.contains(where: { $0.path == below.path }) != true { personalFieldsByMember[name, default: []].append(below) }
        }
    }

    /// The personal fields of a payload of `entry`'s schema: its own, and for a correction, the
    /// corrected values of fields that are personal in any schema (``personalFieldsByMember``).
    public func personalFields(of entry: Entry, payload: JSONValue) -> [PersonalField] {
        guard entry.touchpointKind == "correction", case .object(let corrections)? = payload["corrections"] else { return entry.personalFields }
        var fields = entry.personalFields
        for correction in corrections {
            for below in personalFieldsByMember[correction.key] ?? [] {
                let path: [PersonalField.Step] = [.member("corrections"), .member(correction.key)] + below.path
                if !fields.contains(where: { $0.path == path }) { fields.append(PersonalField(path: path, kind: below.kind)) }
            }
        }
        return fields
    }

    /// The schema for `type` at `version`.
    public func entry(type: String, version: Int) -> Entry? {
        entries[type]?[version]
    }

    /// The newest registered version of `type`.
    public func latestVersion(of type: String) -> Int? {
        entries[type]?.keys.max()
    }

    /// All registered types, sorted.
    public var types: [String] { entries.keys.sorted() }

    /// Every entry, sorted by type and version.
    public var allEntries: [Entry] {
        types.flatMap { type in entries[type]!.values.sorted { $0.version < $1.version } }
    }

    static func isValidTypeName(_ type: String) -> Bool {
        let words = type.split(separator: ".", omittingEmptySubsequences: false)
        return words.count >= 2 && words.allSatisfy { word in
            !word.isEmpty && word.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 }
                && word.utf8.first.map { $0 >= 97 && $0 <= 122 } == true
        }
    }
}

/// A schema file that cannot be registered.
public struct SchemaRegistryError: Error, Sendable, Hashable, CustomStringConvertible {
    public let path: String
    public let message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}
