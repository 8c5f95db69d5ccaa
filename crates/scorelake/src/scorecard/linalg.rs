//! Small dense symmetric systems: Cholesky factors, solves and inverses
//! (Hessians of the logistic fit, correlation matrices of WoE columns).

/// Cholesky factor of a symmetric positive definite matrix; Err(j) names
/// the first pivot that is not positive.
pub(super) fn cholesky(a: &[Vec<f64>]) -> Result<Vec<Vec<f64>>, usize> {
    let n = a.len();
    let mut l = vec![vec![0.0; n]; n];
    for j in 0..n {
        let d = a[j][j] - (0..j).map(|k| l[j][k] * l[j][k]).sum::<f64>();
        if d.is_nan() || d <= 1e-12 * a[j][j].abs().max(1e-300) {
            return Err(j);
        }
        l[j][j] = d.sqrt();
        for i in j + 1..n {
            l[i][j] = (a[i][j] - (0..j).map(|k| l[i][k] * l[j][k]).sum::<f64>()) / l[j][j];
        }
    }
    Ok(l)
}

fn solve_with(l: &[Vec<f64>], b: &[f64]) -> Vec<f64> {
    let n = b.len();
    let mut z = vec![0.0; n];
    for i in 0..n {
        z[i] = (b[i] - (0..i).map(|k| l[i][k] * z[k]).sum::<f64>()) / l[i][i];
    }
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        x[i] = (z[i] - (i + 1..n).map(|k| l[k][i] * x[k]).sum::<f64>()) / l[i][i];
    }
    x
}

/// x with A·x = b for symmetric positive definite A.
pub(super) fn solve(a: &[Vec<f64>], b: &[f64]) -> Result<Vec<f64>, usize> {
    Ok(solve_with(&cholesky(a)?, b))
}

/// The inverse of a symmetric positive definite matrix; Err(j) as
/// [`cholesky`].
pub(super) fn inverse(a: &[Vec<f64>]) -> Result<Vec<Vec<f64>>, usize> {
    let l = cholesky(a)?;
    let n = a.len();
    let columns: Vec<Vec<f64>> = (0..n)
        .map(|j| {
            let e: Vec<f64> = (0..n).map(|i| if i == j { 1.0 } else { 0.0 }).collect();
            solve_with(&l, &e)
        })
        .collect();
    Ok((0..n)
        .map(|i| (0..n).map(|j| columns[j][i]).collect())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::needless_range_loop)]
    fn solves_and_inverts_symmetric_systems() {
        let a = vec![
            vec![4.0, 2.0, 0.6],
            vec![2.0, 5.0, 1.0],
            vec![0.6, 1.0, 3.0],
        ];
        let x = solve(&a, &[1.0, 2.0, 3.0]).unwrap();
        for i in 0..3 {
            let got: f64 = (0..3).map(|j| a[i][j] * x[j]).sum();
            assert!((got - [1.0, 2.0, 3.0][i]).abs() < 1e-12);
        }
        let inv = inverse(&a).unwrap();
        for i in 0..3 {
            for j in 0..3 {
                let got: f64 = (0..3).map(|k| a[i][k] * inv[k][j]).sum();
                assert!((got - if i == j { 1.0 } else { 0.0 }).abs() < 1e-12);
            }
        }
        assert_eq!(cholesky(&[vec![1.0, 1.0], vec![1.0, 1.0]]).unwrap_err(), 1);
    }
}
