import Foundation
import Journal

/// One customer of the world: its profile, its installed base, its contract, its schedule of
/// upcoming touchpoints and the hidden satisfaction that drives its behaviour.
///
/// Compact on purpose: the world holds one of these per customer and nothing else but the events
/// waiting to be recorded. Days are days of the world (0 is the first day).
struct Customer {
    enum Segment: UInt8 { case a, b, c }
    enum Status: UInt8 { case prospect, active, drifting, lost }

    struct Machine {
        var model: UInt8
        var number: UInt8
        var site: UInt8
        /// The day it was installed (negative: before the world started).
        var installDay: Int32
    }

    struct Contract {
        var serial: Int
        /// 1 basic, 2 standard, 3 premium.
        var level: Int
        var startDay: Int
        var endDay: Int
        var annualValueCents: Int
    }

    let index: Int
    let number: Int
    /// The customer number as text, the middle part of its identifiers.
    let digits: String
    let id: String
    var random: WorldRandom
    let startDay: Int
    let segment: Segment
    /// Standard-normal revenue potential; the segment follows from it (top 20 % A, next 30 % B).
    let potential: Double
    let country: Int
    let zone: WorldZone
    let name: String
    /// The customer's contact persons: named in its registration, in visit reports, complaints and
    /// survey comments. Drawn from a random stream of their own, so the world's events are the same
    /// with or without them.
    let contacts: [Contact]
    let joinDay: Int
    let existing: Bool
    var status = Status.prospect

    // Hidden state, never written into events.
    var satisfaction: Double
    let baseline: Double
    /// Below this satisfaction the customer starts to look for another provider.
    let threshold: Double
    var satisfactionDay: Int
    /// How often promises are broken at this customer's sites (remote sites, thin coverage).
    let hardship: Double
    var lossDay = Int.max
    var lossReason = "competitor"
    var reactivationDay = Int.max

    var machines: [Machine]
    var siteCount: Int
    var contract: Contract?
    var contractSerial = 0
    var contractBillingDay = Int.max
    var contractDecisionDay = Int.max
    /// The running contract was cancelled or will not be renewed.
    var contractEnding = false
    let technician: Int
    let partsCadence: Double
    /// Larger customers run larger, more complex machines: their parts and services cost more.
    var priceScale: Double { exp(0.3 * potential) }

    // Schedule: the next day each process is due.
    var nextBreakdown = Int.max
    var nextQuestion = Int.max
    var nextPartsOrder = Int.max
    var nextMaintenance = Int.max
    var nextContractStep = Int.max
    var nextReview = Int.max
    var lastReview = 0
    var nextPurchase = Int.max
    var nextExtra = Int.max
    /// The last day on which an event of this customer occurs so far (a loss comes after it).
    var busyUntil = 0

    // Counters for identifiers.
    var cases = 0
    var quotes = 0
    var orders = 0
    var invoices = 0
    var complaints = 0
    var requests = 0
    var openComplaints = 0

    init(index: Int, configuration: WorldConfiguration) {
        self.index = index
        number = 100_001 + index
        digits = String(number)
        id = "C-" + digits
        startDay = configuration.startDay
        var random = WorldRandom(seed: configuration.seed, stream: UInt64(index))
        potential = random.normal()
        segment = potential > 0.8416 ? .a : potential > -0.2533 ? .b : .c
        country = random.weighted(WordLists.countryWeights)
        zone = WordLists.countries[country].zone
        name = Self.companyName(WordLists.countries[country], &random)
        var people = WorldRandom(seed: configuration.seed ^ 0x5EED_C047_AC75, stream: UInt64(index))
        contacts = Contact.persons(count: segment == .a ? 3 : segment == .b ? 2 : 1, country: WordLists.countries[country], company: name, &people)
        let newShare = min(0.25, 0.06 * Double(configuration.years))
        let days = configuration.dayCount
        existing = !random.chance(newShare) || days < 120
        joinDay = existing ? random.int(0...13) : random.int(30...(days - 60))
        baseline = random.uniform(0.62, 0.86)
        threshold = min(0.55, max(0.25, 0.42 + 0.06 * random.normal()))
        // Some customers are already unhappy when the journal starts.
        satisfaction = existing && random.chance(0.06)
            ? threshold - random.uniform(0.02, 0.12) : min(1, max(0.3, baseline + 0.06 * random.normal()))
        satisfactionDay = joinDay
        hardship = random.logNormal(median: 0.9, sigma: 0.6)
        technician = random.int(0...99)
        switch segment {
        case .a: partsCadence = random.uniform(35, 70)
        case .b: partsCadence = random.uniform(100, 170)
        case .c: partsCadence = random.uniform(180, 330)
        }
        siteCount = segment == .a ? random.int(1...3) : 1
        machines = []
        if existing {
            let count: Int
            switch segment {
            case .a: count = min(16, 3 + Int(3 * (potential - 0.84) + random.uniform(0, 4)))
            case .b: count = random.int(2...4)
            case .c: count = random.chance(0.7) ? 1 : 2
            }
            for n in 0..<count {
                let age = random.chance(0.1) ? random.int(0...364) : random.int(365...(22 * 365))
                machines.append(Machine(
                    model: UInt8(random.int(0...(WordLists.models.count - 1))), number: UInt8(n + 1),
                    site: UInt8(n % siteCount), installDay: Int32(joinDay - age)))
            }
        }
        self.random = random
        nextReview = joinDay
    }

    private static func companyName(_ country: WordLists.Country, _ random: inout WorldRandom) -> String {
        var name = random.pick(country.patterns)
        func fill(_ token: String, _ words: [String]) {
            if let range = name.range(of: token) { name.replaceSubrange(range, with: random.pick(words)) }
        }
        fill("{S}", country.surnames)
        fill("{T}", country.surnames)
        fill("{N}", country.trades)
        fill("{P}", country.prefixes)
        return name
    }

    /// A contact person of the customer.
    struct Contact {
        var name: String
        var role: String
        var email: String
        var phone: String

        var document: JSONValue {
            ["name": .string(name), "role": .string(role), "email": .string(email), "phone": .string(phone)]
        }

        static func persons(count: Int, country: WordLists.Country, company: String, _ random: inout WorldRandom) -> [Contact] {
            let domain = company.lowercased().unicodeScalars.filter { ("a"..."z").contains($0) || ("0"..."9").contains($0) }
                .prefix(24).map(String.init).joined() + ".example"
            var roles = WordLists.contactRoles
            return (0..<count).map { _ in
                let first = random.pick(WordLists.contactFirstNames), last = random.pick(country.surnames)
                let role = roles.remove(at: random.int(0...(roles.count - 1)))
                let local = (first + "." + last).lowercased().unicodeScalars.filter { ("a"..."z").contains($0) || $0 == "." }.map(String.init).joined()
                let phone = "+" + (WordLists.dialingCodes[country.code] ?? "49") + " " + String(random.int(20...99)) + " " + String(random.int(100_000...999_999))
                return Contact(name: first + " " + last, role: role, email: local + "@" + domain, phone: phone)
            }
        }
    }

    /// The contact person who dealt with the `number`th touchpoint of a kind.
    func contact(_ number: Int) -> Contact { contacts[abs(number) % contacts.count] }

    // MARK: Derived facts

    var isActive: Bool { status == .active || status == .drifting }

    /// The first day on which anything is due.
    var wakeDay: Int {
        if status == .lost { return reactivationDay }
        let processes = min(nextBreakdown, nextQuestion, nextPartsOrder, nextMaintenance, nextContractStep, nextPurchase, nextExtra)
        // From the day of its loss on, a customer only waits for the loss to be recorded.
        return min(nextReview, processes < lossDay ? processes : .max)
    }

    var countryInfo: WordLists.Country { WordLists.countries[country] }

    func siteId(_ site: Int) -> String { "S-" + digits + "-" + String(site + 1) }

    func assetId(_ machine: Machine) -> String {
        "SN-\(WordLists.models[Int(machine.model)].name)-\(number)\(machine.number < 10 ? "0" : "")\(machine.number)"
    }

    func caseId(_ n: Int) -> String {
        let serial = String(n)
        return "CASE-" + digits + "-" + String(repeating: "0", count: max(0, 4 - serial.count)) + serial
    }

    /// The absolute day number (since 1970) of world day `day`.
    func absolute(_ day: Int) -> Int { startDay + day }

    /// The instant of `minute` after local midnight of world day `day`.
    func at(_ day: Int, _ minute: Int) -> Int64 { zone.instant(day: startDay + day, minute: minute) }

    /// The world day and local minute of an instant.
    func local(_ time: Int64) -> (day: Int, minute: Int) {
        let (day, minute) = zone.local(time)
        return (day - startDay, minute)
    }

    func date(_ day: Int) -> String { WorldCalendar.dateText(startDay + day) }

    func isWeekend(_ day: Int) -> Bool { WorldCalendar.isWeekend(startDay + day) }

    /// The first working day (Monday to Friday) on or after `day`.
    func workday(onOrAfter day: Int) -> Int {
        var d = day
        while isWeekend(d) { d += 1 }
        return d
    }

    /// A random office-hours instant on the first working day on or after `day`.
    mutating func officeTime(_ day: Int, from: Int = 8 * 60, to: Int = 17 * 60) -> Int64 {
        at(workday(onOrAfter: day), random.int(from...to))
    }

    /// `time` moved into working hours (07:30–17:30, Monday to Saturday), keeping it if it already is.
    func workingTime(notBefore time: Int64) -> Int64 {
        var (day, minute) = local(time)
        if minute > 17 * 60 + 30 {
            day += 1
            minute = 8 * 60
        } else if minute < 7 * 60 + 30 {
            minute = 8 * 60
        }
        if WorldCalendar.weekday(startDay + day) == 0 {
            day += 1
            minute = 8 * 60
        }
        return at(day, minute)
    }

    /// Machines installed on or before `day`.
    func installed(on day: Int) -> [Machine] {
        machines.filter { Int($0.installDay) <= day }
    }

    var technicians: [WordLists.Person] { WordLists.technicians[countryInfo.region] }

    /// The customer's usual technician most of the time, a colleague otherwise.
    mutating func pickTechnician() -> WordLists.Person {
        let team = technicians
        return random.chance(0.7) ? team[technician % team.count] : random.pick(team)
    }

    /// A money amount in euros with cents, from cents.
    static func euros(_ cents: Int) -> Double { Double(cents) / 100 }
}
