import ArgumentParser
import Foundation
import Journal
import JournalProjections
import JournalStore

extension JournalCommand {
    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Export events, an analyst view or a declared projection's table as NDJSON or CSV.",
            subcommands: [Events.self, View.self])

        struct Events: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Stream events of the log, in position order, in flat memory.",
                discussion: """
                    NDJSON (the default) writes each event in the form `tpj append` reads — eventId, type, \
                    schemaVersion, occurredAt, customerId, the envelope fields, payload — so an export appends \
                    into an empty journal with the same event ids and payloads, customer by customer in order. \
                    CSV writes one row per event for tools such as DuckDB or pandas: position, the envelope, \
                    knownAt and recordedAt (UTC), importRef, and the payload as JSON text.

                    Events are exported as recorded: corrections and voids are events of their own (the analyst \
                    views apply them).
                    """)

            @Option(name: .long, help: "Only this customer's events.")
            var customer: String?

            @Option(name: .long, help: "Only events of this type (repeat for several).")
            var type: [String] = []

            @Option(name: .long, help: "Only events that occurred at or after this time.")
            var occurredAfter: TimeArgument?

            @Option(name: .long, help: "Only events that occurred before this time.")
            var occurredBefore: TimeArgument?

            @Option(name: .long, help: "Only events known by this time.")
            var knownAt: TimeArgument?

            @Option(name: .long, help: "Only events after this position (to continue an earlier export).")
            var afterPosition: Int64 = 0

            @Option(name: .long, help: "ndjson (default) or csv.")
            var format: ExportFormat = .ndjson

            @OptionGroup var reader: ReaderOptions
            @OptionGroup var database: DatabaseOptions

            func validate() throws {
                if let customer { _ = try CustomerArgument.parse(customer) }
                if afterPosition < 0 { throw ValidationError("--after-position must be 0 or more.") }
                if let after = occurredAfter, let before = occurredBefore, after.instant >= before.instant {
                    throw ValidationError("--occurred-after must be before --occurred-before.")
                }
            }

            func run() throws {
                try runReportingErrors(json: false) {
                    let store = try database.openStore(create: false)
                    let known = Set(store.validator.registry.types)
                    if let unknown = type.first(where: { !known.contains($0) }) {
                        throw CLIError(code: 64, message: "--type \(unknown): no such event type (see tpj types)")
                    }
                    var filter = EventFilter()
                    filter.customerId = customer
                    filter.types = type
                    filter.occurredAfter = occurredAfter?.instant
                    filter.occurredBefore = occurredBefore?.instant
                    filter.knownAt = knownAt?.instant
                    filter.afterPosition = afterPosition
                    let head = max(1, try store.head())
                    let bar = ProgressLine(label: "Exporting")
                    let writer = RowWriter(format: .ndjson)
                    if format == .csv { writer.write(CSV.record(StoredEventBytes.csvHeader)) }
                    let disclosure = store.disclosure(try reader.masking())
                    // Beyond one customer an export discloses values of most keys: read them all at once.
                    if filter.customerId == nil { disclosure.keys.loadAllKeys() }
                    let exported = try store.scanBytes(filter) { event in
                        if format == .csv {
                            writer.write { event.writeCSVRecord(into: &$0, disclosure: disclosure) }
                        } else {
                            writer.write { event.writeAppendableNDJSON(into: &$0, disclosure: disclosure) }
                        }
                        if event.position % 10_000 == 0 {
                            bar.update(Double(event.position - afterPosition) / Double(head - afterPosition), "position \(Output.count(event.position))")
                        }
                    }
                    writer.flush()
                    bar.finish()
                    Output.error("Exported \(Output.count(exported, "event")).")
                }
            }
        }

        struct View: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Export an analyst view (e.g. analyst_quotes) or a declared projection's table (<name>_<table>, or <name> when it has one).")

            @Argument(help: "The view or table.")
            var name: String

            @Option(name: .long, help: "csv (default) or ndjson.")
            var format: ExportFormat = .csv

            @Option(name: .long, help: "As of this time (see tpj query --known-at).")
            var knownAt: TimeArgument?

            @OptionGroup var declared: DeclaredOptions
            @OptionGroup var rules: RulesOptions
            @OptionGroup var reader: ReaderOptions
            @OptionGroup var database: DatabaseOptions

            func run() throws {
                try runReportingErrors(json: false) {
                    let store = try database.openStore(create: false)
                    let projections = try declared.load(store)
                    var table = name
                    if let projection = projections.first(where: { $0.name == name }) {
                        guard projection.views.count == 1 else {
                            throw CLIError(code: 64, message: "\(name) has several tables: export one of \(projection.views.joined(separator: ", "))")
                        }
                        table = projection.views[0]
                    }
                    let readable = AnalystSurface.viewNames + projections.flatMap(\.views)
                    guard readable.contains(table) else {
                        throw CLIError(code: 64, message: "no view or declared table named \(name); there are \(readable.joined(separator: ", "))")
                    }
                    try catchUp(builtInRunner(store, rules: try rules.momentRules(), declared: projections), store: store)
                    let connection = try analystErrors {
                        try AnalystConnection(journalPath: database.path, declared: projections, registry: store.validator.registry, knownAt: knownAt?.instant,
                                              masking: try reader.masking(defaultRole: "analyst"))
                    }
                    let writer = RowWriter(format: format == .csv ? .csv : .ndjson)
                    try analystErrors { try connection.query("SELECT * FROM \(table)", columns: writer.begin, row: writer.row) }
                    writer.finish()
                    Output.error("Exported \(Output.count(writer.rows, "row")) of \(table).")
                }
            }
        }
    }
}

enum ExportFormat: String, ExpressibleByArgument, CaseIterable {
    case ndjson, csv
}
