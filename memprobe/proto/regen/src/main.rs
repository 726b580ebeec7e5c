fn main() {
    let proto = std::env::args().nth(1).expect("path to profile.proto");
    let out = std::env::args().nth(2).expect("output dir");
    let dir = std::path::Path::new(&proto).parent().unwrap().to_path_buf();
    let fds = protox::compile([&proto], [&dir]).expect("protox");
    prost_build::Config::new()
        .out_dir(out)
        .compile_fds(fds)
        .expect("prost-build");
}
