import ArgumentParser
import Foundation
import Journal
import JournalServer
import JournalStore

extension Role: ExpressibleByArgument {}

extension JournalCommand {
    struct Token: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Bearer tokens for the HTTP API: create, list, revoke.",
            discussion: """
                Roles: ingest (append), staff (timelines, moments, churn, segments, customer search), analyst (the \
                events feed), auditor (history, verify), admin (everything, metrics, projections). A token is shown \
                once, when created; the journal keeps only its SHA-256 — in its file, or in PostgreSQL (--db \
                postgres://…), where every server on that database knows it.
                """,
            subcommands: [Create.self, List.self, Revoke.self])
    }
}

extension JournalCommand.Token {
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a token and print it (the only time it is shown).")

        @Option(name: .long, help: "The role: \(Role.allCases.map(\.rawValue).joined(separator: ", ")).")
        var role: Role

        @Option(name: .long, help: "Who or what uses the token, e.g. \"hotline desk 3\".")
        var name: String

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            try await runReportingErrors(json: output.json) {
                let (token, secret) = try await database.withTokens { try await $0.create(name: name, role: role) }
                if output.json {
                    Output.json(["id": .string(token.id), "name": .string(token.name), "role": .string(token.role.rawValue), "token": .string(secret)])
                } else {
                    Output.line(secret)
                    Output.error("Created token \(token.id) (\(token.role.rawValue)) for \"\(token.name)\". It is shown only now; keep it secret.")
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the tokens (never their secrets).")

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            try await runReportingErrors(json: output.json) {
                let tokens = try await database.withTokens { try await $0.list() }
                if output.json {
                    Output.json(.array(tokens.map { token in
                        ["id": .string(token.id), "name": .string(token.name), "role": .string(token.role.rawValue),
                         "createdAt": .string(token.created.rfc3339), "revokedAt": token.revoked.map { .string($0.rfc3339) } ?? .null]
                    }))
                } else if tokens.isEmpty {
                    Output.line("No tokens. Create one with `tpj token create --role ROLE --name NAME`.")
                } else {
                    Output.line(Output.table(["ID", "NAME", "ROLE", "CREATED", "REVOKED"], tokens.map { token in
                        [token.id, token.name, token.role.rawValue, token.created.rfc3339, token.revoked?.rfc3339 ?? "-"]
                    }))
                }
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token by its id or name; it stops working at once.")

        @Argument(help: "The token's id or name.")
        var token: String

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            try await runReportingErrors(json: output.json) {
                let revoked = try await database.withTokens { try await $0.revoke(token) }
                if output.json {
                    Output.json(["id": .string(revoked.id), "name": .string(revoked.name), "revokedAt": .string(revoked.revoked!.rfc3339)])
                } else {
                    Output.line("Revoked token \(revoked.id) (\(revoked.role.rawValue)) of \"\(revoked.name)\".")
                }
            }
        }
    }
}
