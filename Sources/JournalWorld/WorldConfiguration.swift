/// What world to generate: how many customers, over how many years, from which seed and first day.
///
/// The same configuration always gives the same events, byte for byte, on any machine and at any time.
///
/// ```swift
/// let configuration = WorldConfiguration(customers: 1_000, years: 3, seed: 7)
/// if let problem = configuration.problem { print(problem) }
/// ```
public struct WorldConfiguration: Sendable, Hashable {
    public static let maximumCustomers = 5_000_000
    public static let maximumYears = 30

    /// Customers of the world: most are customers when the journal starts, the rest are won later.
    public var customers: Int
    /// How long the world runs, in calendar years from `start`.
    public var years: Int
    public var seed: UInt64
    /// The first day, `YYYY-MM-DD`.
    public var start: String

    public init(customers: Int = 200, years: Int = 3, seed: UInt64 = 1, start: String = "2023-01-01") {
        self.customers = customers
        self.years = years
        self.seed = seed
        self.start = start
    }

    /// What is wrong with the configuration, phrased as an instruction; nil when it can be generated.
    public var problem: String? {
        if customers < 1 || customers > Self.maximumCustomers {
            return "--customers must be between 1 and 5,000,000, got \(customers)"
        }
        if years < 1 || years > Self.maximumYears {
            return "--years must be between 1 and \(Self.maximumYears), got \(years)"
        }
        guard let day = WorldCalendar.days(parsing: start) else {
            return "--start must be a date YYYY-MM-DD, got \"\(start)\""
        }
        let year = WorldCalendar.civil(day).year
        if year < 1990 || year > 2100 {
            return "--start must be a date between 1990 and 2100, got \(start)"
        }
        return nil
    }

    /// The first day, counted from 1970-01-01.
    var startDay: Int { WorldCalendar.days(parsing: start)! }

    /// How many days the world runs.
    var dayCount: Int { WorldCalendar.adding(years: years, to: startDay) - startDay }
}
