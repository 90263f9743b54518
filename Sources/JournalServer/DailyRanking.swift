import Journal
import JournalProjections
import JournalStore
import Logging
import ServiceLifecycle

extension JournalServer {
    /// The portfolio ranked by churn risk as of the start (00:00 UTC) of the current day, with the
    /// weights recorded by then (``RiskBoard``): the day's call list, the same all day, and what
    /// `?asOf=` that instant answers. One customer's risk as of now is `/v1/customers/C/churn`.
    func dailyRanking() async throws -> (asOf: Timestamp, weights: String, risks: [CustomerRisk]) {
        let asOf = RiskBoard.dayStart(of: store.clock.now())
        let (insights, weights) = try await churnInsights(asOf: asOf)
        let board = riskBoard
        let risks = try await store.readProjections { try $0.ranking(board, asOf: asOf, insights: insights, weights: weights) }
        return (asOf, weights, risks)
    }

    /// Ranks the portfolio when the server starts and again after each midnight (UTC), so that no
    /// request waits for the day's first ranking.
    struct DailyRanking: ServiceLifecycle.Service {
        let server: JournalServer
        let logger: Logger

        func run() async throws {
            let server = server, logger = logger
            await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    do {
                        _ = try await server.dailyRanking()
                    } catch {
                        logger.error("ranking the portfolio's churn risk failed; trying again tomorrow", metadata: ["error": "\(error)"])
                    }
                    let now = server.store.clock.now()
                    let next = RiskBoard.dayStart(of: now).microseconds + 86_400_000_000 + 1_000_000
                    do { try await Task.sleep(for: .microseconds(next - now.microseconds)) } catch { return }
                }
            }
        }
    }
}
