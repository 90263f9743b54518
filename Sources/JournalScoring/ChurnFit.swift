import Foundation

/// One labelled snapshot: a customer's features as of a date, and whether it was lost within the horizon.
public struct ChurnSample: Sendable {
    public var asOfDays: Int
    public var features: [Double]
    public var lost: Bool

    public init(asOfDays: Int, features: [Double], lost: Bool) {
        self.asOfDays = asOfDays
        self.features = features
        self.lost = lost
    }
}

/// Logistic regression for the churn scorecard (Newton's method with a small ridge penalty) and AUC.
public enum ChurnFit {
    /// Fits weights on `samples` (features in ``ChurnFeatures/names`` order); returns intercept and weights.
    public static func logistic(_ samples: [ChurnSample], ridge: Double = 1.0, iterations: Int = 25) -> (intercept: Double, weights: [Double]) {
        let k = (samples.first?.features.count ?? 0) + 1
        var beta = [Double](repeating: 0, count: k)
        let positives = Double(samples.count { $0.lost })
        if positives > 0, positives < Double(samples.count) { beta[0] = log(positives / (Double(samples.count) - positives)) }
        for _ in 0..<iterations {
            var gradient = [Double](repeating: 0, count: k)
            var hessian = [[Double]](repeating: [Double](repeating: 0, count: k), count: k)
            for sample in samples {
                let x = [1] + sample.features
                var z = 0.0
                for j in 0..<k { z += beta[j] * x[j] }
                let p = 1 / (1 + exp(-z))
                let residual = (sample.lost ? 1 : 0) - p
                let w = max(p * (1 - p), 1e-9)
                for i in 0..<k {
                    gradient[i] += residual * x[i]
                    for j in i..<k { hessian[i][j] += w * x[i] * x[j] }
                }
            }
            for i in 0..<k {
                for j in 0..<i { hessian[i][j] = hessian[j][i] }
                if i > 0 {
                    gradient[i] -= ridge * beta[i]
                    hessian[i][i] += ridge
                }
            }
            guard let step = solve(hessian, gradient) else { break }
            var change = 0.0
            for j in 0..<k {
                beta[j] += step[j]
                change = max(change, abs(step[j]))
            }
            if change < 1e-8 { break }
        }
        return (beta[0], Array(beta.dropFirst()))
    }

    /// Area under the ROC curve of `scores` for `labels` (Mann–Whitney, ties counted half); nil without both classes.
    public static func auc(scores: [Double], labels: [Bool]) -> Double? {
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var rankSum = 0.0
        var index = 0
        while index < order.count {
            var end = index
            while end + 1 < order.count, scores[order[end + 1]] == scores[order[index]] { end += 1 }
            let rank = Double(index + end) / 2 + 1
            for position in index...end where labels[order[position]] { rankSum += rank }
            index = end + 1
        }
        let positives = Double(labels.count { $0 }), negatives = Double(labels.count) - positives
        guard positives > 0, negatives > 0 else { return nil }
        return (rankSum - positives * (positives + 1) / 2) / (positives * negatives)
    }

    /// Solves A x = b by Gaussian elimination with partial pivoting.
    static func solve(_ a: [[Double]], _ b: [Double]) -> [Double]? {
        var m = a
        var v = b
        let n = b.count
        for column in 0..<n {
            guard let pivot = (column..<n).max(by: { abs(m[$0][column]) < abs(m[$1][column]) }), abs(m[pivot][column]) > 1e-12 else { return nil }
            m.swapAt(column, pivot)
            v.swapAt(column, pivot)
            for row in (column + 1)..<n {
                let factor = m[row][column] / m[column][column]
                guard factor != 0 else { continue }
                for j in column..<n { m[row][j] -= factor * m[column][j] }
                v[row] -= factor * v[column]
            }
        }
        var x = [Double](repeating: 0, count: n)
        for row in stride(from: n - 1, through: 0, by: -1) {
            var sum = v[row]
            for j in (row + 1)..<n { sum -= m[row][j] * x[j] }
            x[row] = sum / m[row][row]
        }
        return x
    }
}
