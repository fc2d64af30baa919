fn main() {
    println!("partnerdeck: under construction");
}
