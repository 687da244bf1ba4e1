;; The bench's reference lane filter: the least a correct lane filter does per request, in WebAssembly text
;; against the raw proxy-wasm ABI 0.2.0, so that every clone can measure lane-tag against the same yardstick.
;; Its job: read all request headers as pairs (get_header_map_value gives only the first of repeated
;; headers), take the last `baggage` header, find its first member whose key is `x-asm-prefer-tag`, and
;; replace the `x-asm-prefer-tag` request header with that member's value. Members are split at `,`; a
;; member's key ends at its first `=`, its value at `;` (properties) or the member's end; spaces and tabs
;; around keys and values are dropped; a member without `=` is skipped. No configuration, no validation,
;; no percent-decoding, no metrics, every direction alike. test/bench/reference.test.ts pins these rules.
(module
  (import "env" "proxy_get_header_map_pairs" (func $pairs (param i32 i32 i32) (result i32)))
  (import "env" "proxy_replace_header_map_value" (func $replace (param i32 i32 i32 i32 i32) (result i32)))
  (memory $mem 1)
  (export "memory" (memory $mem))
  ;; 16, 20: the out-pointers of get_header_map_pairs; 32: the lane key; 48: the header name "baggage".
  (data (i32.const 32) "x-asm-prefer-tag")
  (data (i32.const 48) "baggage")
  ;; The host's copies go to a bump heap from HEAP, emptied at every request (nothing outlives one).
  (global $HEAP i32 (i32.const 1024))
  (global $top (mut i32) (i32.const 1024))

  (func $malloc (export "malloc") (param $n i32) (result i32)
    (local $p i32) (local $end i32) (local $have i32)
    (local.set $p (i32.and (i32.add (global.get $top) (i32.const 7)) (i32.const -8)))
    (local.set $end (i32.add (local.get $p) (local.get $n)))
    ;; Wrapped past 4 GiB: no block (the host then reports the call failed).
    (if (i32.lt_u (local.get $end) (local.get $p)) (then (return (i32.const 0))))
    (local.set $have (i32.shl (memory.size) (i32.const 16)))
    (if (i32.gt_u (local.get $end) (local.get $have))
      (then
        (if (i32.eq (i32.const -1)
              (memory.grow (i32.shr_u (i32.add (i32.sub (local.get $end) (local.get $have)) (i32.const 65535)) (i32.const 16))))
          (then (return (i32.const 0))))))
    (global.set $top (local.get $end))
    (local.get $p))
  (func (export "free") (param i32))

  (func (export "proxy_abi_version_0_2_0"))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32) (i32.const 0))
  (func (export "proxy_on_done") (param i32) (result i32) (i32.const 1))
  (func (export "proxy_on_log") (param i32))
  (func (export "proxy_on_delete") (param i32))

  ;; Whether n bytes at a equal n bytes at b.
  (func $same (param $a i32) (param $b i32) (param $n i32) (result i32)
    (block $differ
      (loop $next
        (if (i32.eqz (local.get $n)) (then (return (i32.const 1))))
        (br_if $differ (i32.ne (i32.load8_u (local.get $a)) (i32.load8_u (local.get $b))))
        (local.set $a (i32.add (local.get $a) (i32.const 1)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (i32.const 0))

  ;; The first byte c in [p, end), or end.
  (func $find (param $p i32) (param $end i32) (param $c i32) (result i32)
    (block $found
      (loop $next
        (br_if $found (i32.ge_u (local.get $p) (local.get $end)))
        (br_if $found (i32.eq (i32.load8_u (local.get $p)) (local.get $c)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $next)))
    (local.get $p))

  (func $ows (param $c i32) (result i32)
    (i32.or (i32.eq (local.get $c) (i32.const 32)) (i32.eq (local.get $c) (i32.const 9))))

  ;; [p, end) without its leading spaces and tabs: the new start.
  (func $ltrim (param $p i32) (param $end i32) (result i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (br_if $done (i32.eqz (call $ows (i32.load8_u (local.get $p)))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $next)))
    (local.get $p))

  ;; [start, end) without its trailing spaces and tabs: the new end.
  (func $rtrim (param $start i32) (param $end i32) (result i32)
    (block $done
      (loop $next
        (br_if $done (i32.le_u (local.get $end) (local.get $start)))
        (br_if $done (i32.eqz (call $ows (i32.load8_u (i32.sub (local.get $end) (i32.const 1))))))
        (local.set $end (i32.sub (local.get $end) (i32.const 1)))
        (br $next)))
    (local.get $end))

  ;; The lane member of the baggage value [v, end): the routing header set to its value, if there is one.
  (func $route (param $v i32) (param $end i32)
    (local $member_end i32) (local $eq i32) (local $key i32) (local $key_end i32) (local $val i32) (local $val_end i32)
    (loop $member
      (if (i32.ge_u (local.get $v) (local.get $end)) (then (return)))
      (local.set $member_end (call $find (local.get $v) (local.get $end) (i32.const 44)))  ;; ','
      (local.set $eq (call $find (local.get $v) (local.get $member_end) (i32.const 61)))   ;; '='
      (if (i32.lt_u (local.get $eq) (local.get $member_end))
        (then
          (local.set $key (call $ltrim (local.get $v) (local.get $eq)))
          (local.set $key_end (call $rtrim (local.get $key) (local.get $eq)))
          (if (i32.and (i32.eq (i32.sub (local.get $key_end) (local.get $key)) (i32.const 16))
                       (call $same (local.get $key) (i32.const 32) (i32.const 16)))
            (then
              (local.set $val (call $ltrim (i32.add (local.get $eq) (i32.const 1)) (local.get $member_end)))
              (local.set $val_end (call $rtrim (local.get $val)
                (call $find (local.get $val) (local.get $member_end) (i32.const 59))))         ;; ';'
              (drop (call $replace (i32.const 0) (i32.const 32) (i32.const 16)
                (local.get $val) (i32.sub (local.get $val_end) (local.get $val))))
              (return)))))
      (local.set $v (i32.add (local.get $member_end) (i32.const 1)))
      (br $member)))

  ;; Pairs wire format: count, then a (key length, value length) u32 pair per header, then each key and
  ;; value followed by a NUL.
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (local $buf i32) (local $count i32) (local $lens i32) (local $s i32) (local $kl i32) (local $vl i32)
    (local $v i32) (local $vn i32) (local $found i32)
    (global.set $top (global.get $HEAP))
    (if (call $pairs (i32.const 0) (i32.const 16) (i32.const 20)) (then (return (i32.const 0))))
    (if (i32.lt_u (i32.load (i32.const 20)) (i32.const 4)) (then (return (i32.const 0))))
    (local.set $buf (i32.load (i32.const 16)))
    (local.set $count (i32.load (local.get $buf)))
    (local.set $lens (i32.add (local.get $buf) (i32.const 4)))
    (local.set $s (i32.add (local.get $lens) (i32.shl (local.get $count) (i32.const 3))))
    (block $last
      (loop $header
        (br_if $last (i32.eqz (local.get $count)))
        (local.set $kl (i32.load (local.get $lens)))
        (local.set $vl (i32.load offset=4 (local.get $lens)))
        (if (i32.and (i32.eq (local.get $kl) (i32.const 7)) (call $same (local.get $s) (i32.const 48) (i32.const 7)))
          (then
            (local.set $found (i32.const 1))
            (local.set $v (i32.add (local.get $s) (i32.const 8)))
            (local.set $vn (local.get $vl))))
        (local.set $s (i32.add (local.get $s) (i32.add (i32.add (local.get $kl) (local.get $vl)) (i32.const 2))))
        (local.set $lens (i32.add (local.get $lens) (i32.const 8)))
        (local.set $count (i32.sub (local.get $count) (i32.const 1)))
        (br $header)))
    (if (local.get $found) (then (call $route (local.get $v) (i32.add (local.get $v) (local.get $vn)))))
    (i32.const 0))
)
