//! Throughput of `analyze` on typical Portuguese and Spanish marketing texts,
//! in characters per second.
//!
//! Run: `CARGO_TARGET_DIR=/work/target-sms cargo bench -p recado-sms --bench analyze`

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use recado_sms::{analyze, plan, AnalyzeOptions, NationalLanguage, Policy};
use std::time::Duration;

const TEXTS: &[(&str, &str)] = &[
    ("pt_short", "Promoção válida até amanhã! Use o código VERAO25."),
    (
        "pt_one_part",
        "Olá {{nome}}, a sua encomenda nº 48213 já foi expedida e chega amanhã entre as 9h e as 13h. \
         Acompanhe em https://rcd.pt/e/48213 ou responda PARAR.",
    ),
    (
        "es_long",
        "¡Hola María! Esta semana en nuestras tiendas: 30% de descuento en toda la colección de \
         verano, envío gratis en pedidos superiores a 50€ y regalo sorpresa para los primeros 100 \
         clientes. ¿A qué esperas? Ven a visitarnos de lunes a sábado, de 10:00 a 21:00, o compra \
         online en https://tienda.example.es/verano. Oferta válida hasta el 31 de agosto o hasta \
         agotar existencias. Para darte de baja responde BAJA.",
    ),
    (
        "pt_emoji",
        "🎉 Black Friday chegou! Até 50% de desconto em toda a loja, só até domingo. \
         Não perca: https://loja.example.pt/bf 🛍️",
    ),
    (
        "ascii_plain",
        "Your verification code is 482913. It expires in 10 minutes. Do not share this code with \
         anyone. If you did not request it, ignore this message.",
    ),
    (
        "pt_typographic",
        "“Última chamada” — inscrições para o workshop de sábado terminam hoje… Garanta já o seu \
         lugar em https://ev.example.pt/ws (vagas limitadas).",
    ),
];

fn chars(texts: &[(&str, &str)]) -> u64 {
    texts.iter().map(|(_, t)| t.chars().count() as u64).sum()
}

fn bench_analyze(c: &mut Criterion) {
    let default = AnalyzeOptions::default();
    let auto = AnalyzeOptions {
        policy: Policy::Auto,
        ..AnalyzeOptions::default()
    };
    let portuguese = AnalyzeOptions {
        national_language: Some(NationalLanguage::Pt),
        ..AnalyzeOptions::default()
    };

    let mut group = c.benchmark_group("analyze");
    for (name, text) in TEXTS {
        group.throughput(Throughput::Elements(text.chars().count() as u64));
        group.bench_function(*name, |b| b.iter(|| analyze(black_box(text), &default)));
    }
    group.throughput(Throughput::Elements(chars(TEXTS)));
    for (name, opts) in [
        ("mix_transliterate", &default),
        ("mix_auto", &auto),
        ("mix_national_pt", &portuguese),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                for (_, text) in TEXTS {
                    black_box(analyze(black_box(text), opts).unwrap());
                }
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("plan");
    group.throughput(Throughput::Elements(chars(TEXTS)));
    group.bench_function("mix_transliterate", |b| {
        b.iter(|| {
            for (_, text) in TEXTS {
                black_box(plan(black_box(text), &default, 1).unwrap());
            }
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = bench_analyze
}
criterion_main!(benches);
