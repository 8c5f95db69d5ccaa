//! The sample panel through the engine.

use scorelake::sample::{self, SampleSpec};

use scorelake::datafusion::arrow::compute::concat_batches;

use crate::support::{collect, read_from, session, write_to};

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
        let written = write_to(&session, df, &out).await;
        assert_eq!(written.rows as usize, direct.num_rows());
        let back = read_from(&session, &out).await;
        let types = |s: &datafusion::arrow::datatypes::Schema| {
            s.fields()
                .iter()
                .map(|f| (f.name().clone(), f.data_type().clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(types(back.schema().as_arrow()), types(&sample::schema()));
        let batches = collect(back).await;
        let back = concat_batches(&batches[0].schema(), &batches).unwrap();
        // Same rows in the same order as generating directly.
        assert_eq!(back.columns(), direct.columns());
        contents.push(std::fs::read(&out).unwrap());
    }
    assert!(contents[0] == contents[1], "two runs wrote different bytes");

    let per_month = session
        .ctx()
        .read_batch(sample::generate(&spec, 0..spec.customers).unwrap())
        .unwrap()
        .aggregate(
            vec![datafusion::prelude::col("month")],
            vec![datafusion::functions_aggregate::count::count_all()],
        )
        .unwrap()
        .count()
        .await
        .unwrap();
    assert_eq!(per_month, 12);
}
