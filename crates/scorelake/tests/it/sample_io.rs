//! The sample panel through the engine.

use scorelake::io::{self, ReadOptions, WriteOptions};
use scorelake::sample::{self, SampleSpec};

use crate::support::{collect, session, sorted_rows};

#[tokio::test]
async fn sample_streams_into_parquet_deterministically() {
    let dir = tempfile::tempdir().unwrap();
    let session = session();
    let spec = SampleSpec {
        customers: 2_000,
        months: 12,
        seed: 11,
        ..SampleSpec::default()
    };
    let direct = sample::generate(&spec, 0..spec.customers).unwrap();
    let mut contents = vec![];
    for run in 0..2 {
        let out = dir.path().join(format!("panel-{run}.parquet"));
        let df = sample::dataframe(&session, &spec, None).unwrap();
        let written = io::write(
            &session,
            df,
            out.to_str().unwrap(),
            &WriteOptions::default(),
        )
        .await
        .unwrap();
        assert_eq!(written.rows as usize, direct.num_rows());
        let back = io::read(&session, out.to_str().unwrap(), &ReadOptions::default())
            .await
            .unwrap();
        let types = |s: &scorelake::datafusion::arrow::datatypes::Schema| {
            s.fields()
                .iter()
                .map(|f| (f.name().clone(), f.data_type().clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(types(back.schema().as_arrow()), types(&sample::schema()));
        contents.push(sorted_rows(&collect(back).await));
    }
    assert_eq!(contents[0], contents[1]);
    assert_eq!(contents[0], sorted_rows(&[direct]));

    let per_month = session
        .ctx()
        .read_batch(sample::generate(&spec, 0..spec.customers).unwrap())
        .unwrap()
        .aggregate(
            vec![scorelake::datafusion::prelude::col("month")],
            vec![scorelake::datafusion::functions_aggregate::count::count_all()],
        )
        .unwrap()
        .count()
        .await
        .unwrap();
    assert_eq!(per_month, 12);
}
