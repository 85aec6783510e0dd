#include "s3/xml.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace imgsync::s3;

TEST_SUITE_BEGIN("xml");

TEST_CASE("xml: escape and unescape") {
    CHECK(xml_escape("a&b<c>d\"e'f") == "a&amp;b&lt;c&gt;d&quot;e&apos;f");
    CHECK(xml_escape("plain \xC3\xA9") == "plain \xC3\xA9");
    CHECK(xml_unescape("a&amp;b&lt;c&gt;d&quot;e&apos;f") == "a&b<c>d\"e'f");
    CHECK(xml_unescape("&#65;&#x42;&#X43;&#x20AC;&#128512;") == "ABC\xE2\x82\xAC\xF0\x9F\x98\x80");
    // Unknown, malformed and invalid references stay as written.
    CHECK(xml_unescape("&nbsp; & &; &#; &#x; &#xZZ; &#0; &#xD800; &#x110000; &#99999999999;") ==
          "&nbsp; & &; &#; &#x; &#xZZ; &#0; &#xD800; &#x110000; &#99999999999;");
    CHECK(xml_unescape("&amp;amp;") == "&amp;");
    CHECK(xml_unescape("tail &") == "tail &");
    for (std::string s : {"", "&amp;", "<&>\"'", "&#x41;", "a&b;c", "\xFF\xFE&"}) {
        CHECK(xml_unescape(xml_escape(s)) == s);
    }
}

TEST_CASE("xml: S3 error bodies") {
    const auto e = parse_error(R"(<?xml version="1.0" encoding="UTF-8"?>
<Error>
  <Code>SlowDown</Code>
  <Message>Please reduce your request rate &amp; retry.</Message>
  <RequestId>4442587FB7D0A2F9</RequestId>
  <HostId>abc/def=</HostId>
</Error>)");
    REQUIRE(e.has_value());
    CHECK(e->code == "SlowDown");
    CHECK(e->message == "Please reduce your request rate & retry.");
    CHECK(e->request_id == "4442587FB7D0A2F9");
    CHECK(e->host_id == "abc/def=");

    // radosgw: an empty <Message/>, attributes-free, everything on one line.
    const auto rgw = parse_error(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>NoSuchBucket</Code><Message/>"
        "<BucketName>b</BucketName><RequestId>tx00000-0065</RequestId><HostId>1-default</HostId>"
        "</Error>");
    REQUIRE(rgw.has_value());
    CHECK(rgw->code == "NoSuchBucket");
    CHECK(rgw->message.empty());
    CHECK(rgw->request_id == "tx00000-0065");

    CHECK_FALSE(parse_error(""));
    CHECK_FALSE(parse_error("<html><body>502 Bad Gateway</body></html>"));
    CHECK_FALSE(parse_error("not xml at all"));
}

TEST_CASE("xml: InitiateMultipartUploadResult") {
    const auto id = parse_upload_id(R"(<?xml version="1.0" encoding="UTF-8"?>
<InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>example-bucket</Bucket>
  <Key>example-object</Key>
  <UploadId>VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId>
</InitiateMultipartUploadResult>)");
    REQUIRE(id.has_value());
    CHECK(*id == "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA");
    CHECK(parse_upload_id("<InitiateMultipartUploadResult><UploadId>2~a&amp;b</UploadId>"
                          "</InitiateMultipartUploadResult>") == "2~a&b");
    CHECK_FALSE(parse_upload_id("<InitiateMultipartUploadResult><UploadId></UploadId>"
                                "</InitiateMultipartUploadResult>"));
    CHECK_FALSE(parse_upload_id("<Error><Code>AccessDenied</Code></Error>"));
}

TEST_CASE("xml: ListPartsResult") {
    const auto r = parse_list_parts(R"(<?xml version="1.0" encoding="UTF-8"?>
<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>example-bucket</Bucket>
  <Key>example-object</Key>
  <UploadId>XXBsb2FkIElEIGZvciBlbHZpbmcncyVcdS1tb3ZpZS5tMnRzEEEwbG9hZA</UploadId>
  <PartNumberMarker>1</PartNumberMarker>
  <NextPartNumberMarker>3</NextPartNumberMarker>
  <MaxParts>2</MaxParts>
  <IsTruncated>true</IsTruncated>
  <Part>
    <PartNumber>2</PartNumber>
    <LastModified>2010-11-10T20:48:34.000Z</LastModified>
    <ETag>"7778aef83f66abc1fa1e8477f296d394"</ETag>
    <Size>10485760</Size>
  </Part>
  <Part>
    <PartNumber>3</PartNumber>
    <LastModified>2010-11-10T20:48:33.000Z</LastModified>
    <ETag>&quot;aaaa18db4cc2f85cedef654fccc4a4x8&quot;</ETag>
    <Size>10485760</Size>
  </Part>
  <Part><PartNumber>x</PartNumber><ETag>"bad"</ETag><Size>1</Size></Part>
  <Part><PartNumber>4</PartNumber><ETag>"no size"</ETag></Part>
</ListPartsResult>)");
    REQUIRE(r.has_value());
    CHECK(r->upload_id == "XXBsb2FkIElEIGZvciBlbHZpbmcncyVcdS1tb3ZpZS5tMnRzEEEwbG9hZA");
    CHECK(r->is_truncated);
    REQUIRE(r->next_part_number_marker.has_value());
    CHECK(*r->next_part_number_marker == 3);
    REQUIRE(r->parts.size() == 2); // the two unreadable entries are left out
    CHECK(r->parts[0].part_number == 2);
    CHECK(r->parts[0].etag == "\"7778aef83f66abc1fa1e8477f296d394\"");
    CHECK(r->parts[0].size == 10485760);
    CHECK(r->parts[1].part_number == 3);
    CHECK(r->parts[1].etag == "\"aaaa18db4cc2f85cedef654fccc4a4x8\"");

    const auto last = parse_list_parts("<ListPartsResult><IsTruncated>false</IsTruncated>"
                                       "<Part><PartNumber>1</PartNumber><ETag>\"e\"</ETag>"
                                       "<Size>5368709120</Size></Part></ListPartsResult>");
    REQUIRE(last.has_value());
    CHECK_FALSE(last->is_truncated);
    CHECK_FALSE(last->next_part_number_marker.has_value());
    REQUIRE(last->parts.size() == 1);
    CHECK(last->parts[0].size == 5368709120ULL);
    CHECK_FALSE(parse_list_parts("<Error><Code>NoSuchUpload</Code></Error>"));
}

TEST_CASE("xml: CompleteMultipartUpload results, including 200 with an error") {
    const auto ok = parse_complete_multipart_upload(R"(<?xml version="1.0" encoding="UTF-8"?>
<CompleteMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Location>http://Example-Bucket.s3.amazonaws.com/Example-Object</Location>
  <Bucket>Example-Bucket</Bucket>
  <Key>Example-Object</Key>
  <ETag>"3858f62230ac3c915f300c664312c11f-9"</ETag>
</CompleteMultipartUploadResult>)");
    REQUIRE(ok.result.has_value());
    CHECK_FALSE(ok.error.has_value());
    CHECK(ok.result->etag == "\"3858f62230ac3c915f300c664312c11f-9\"");
    CHECK(ok.result->key == "Example-Object");

    // S3 may hold the connection open with whitespace and still fail after the 200 status.
    const auto failed = parse_complete_multipart_upload(
        "\n\n          \n<?xml version=\"1.0\" "
        "encoding=\"UTF-8\"?>\n<Error><Code>InternalError</Code>"
        "<Message>We encountered an internal error. Please try again.</Message>"
        "<RequestId>656c76696e6727732072657175657374</RequestId>"
        "<HostId>Uuag1LuByRx9e6j5Onimru9pO4ZVKnJ2Qz7/C1NPcfTWAtRPfTaOFg==</HostId></Error>");
    CHECK_FALSE(failed.result.has_value());
    REQUIRE(failed.error.has_value());
    CHECK(failed.error->code == "InternalError");

    const auto neither = parse_complete_multipart_upload("");
    CHECK_FALSE(neither.result.has_value());
    CHECK_FALSE(neither.error.has_value());
}

TEST_CASE("xml: ListBucketResult keys") {
    const auto r = parse_list_bucket(R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>bucket</Name><Prefix/><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>
  <IsTruncated>true</IsTruncated>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
  <Contents><Key>a &amp; b.jpg</Key><Size>1</Size></Contents>
  <Contents><Key><![CDATA[c<d>.png]]></Key><Size>2</Size></Contents>
</ListBucketResult>)");
    REQUIRE(r.has_value());
    REQUIRE(r->keys.size() == 2);
    CHECK(r->keys[0] == "a & b.jpg");
    CHECK(r->keys[1] == "c<d>.png");
    CHECK(r->is_truncated);
    CHECK(r->next_continuation_token == "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
}

TEST_CASE("xml: the reader tolerates what real servers and proxies send") {
    // Namespace prefixes, attributes with '>' inside quotes, comments, DOCTYPE, CR LF.
    const auto e = parse_xml("<!DOCTYPE x [<!ENTITY a \"b\">]><!-- hi --><s3:Error a=\"1>2\" "
                             "b='x'>\r\n<s3:Code>X</s3:Code><Message>m</Message></s3:Error>");
    REQUIRE(e.has_value());
    CHECK(e->name == "Error");
    CHECK(e->child_text("Code") == "X");
    // Missing end tags: whatever was read is kept.
    const auto truncated = parse_error("<Error><Code>SlowDown</Code><Message>Plea");
    REQUIRE(truncated.has_value());
    CHECK(truncated->code == "SlowDown");
    CHECK(truncated->message == "Plea");
    // A mismatched end tag closes the elements left open inside it.
    const auto mismatched = parse_xml("<a><b><c>1</a><d>2</d>");
    REQUIRE(mismatched.has_value());
    CHECK(mismatched->child("b") != nullptr);
    CHECK(mismatched->child("b")->child_text("c") == "1");
    // Excessive nesting is refused, not recursed into.
    std::string deep;
    for (std::size_t i = 0; i < kMaxXmlDepth + 1; ++i) {
        deep += "<a>";
    }
    CHECK_FALSE(parse_xml(deep));
    std::string ok_depth;
    for (std::size_t i = 0; i < kMaxXmlDepth; ++i) {
        ok_depth += "<a>";
    }
    CHECK(parse_xml(ok_depth));
    CHECK_FALSE(parse_xml(""));
    CHECK_FALSE(parse_xml("<"));
    CHECK_FALSE(parse_xml("<!--"));
    CHECK_FALSE(parse_xml("text only"));
    CHECK(parse_xml("< a><b/>")->name == "b"); // a '<' that opens no tag is text
}

TEST_CASE("xml: CompleteMultipartUpload request body") {
    const auto body =
        complete_multipart_body({{2, "\"b\"", ""}, {1, "\"a&<>\"", ""}, {10, "\"c\"", ""}});
    CHECK(body == "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                  "<Part><PartNumber>1</PartNumber><ETag>\"a&amp;&lt;&gt;\"</ETag></Part>"
                  "<Part><PartNumber>2</PartNumber><ETag>\"b\"</ETag></Part>"
                  "<Part><PartNumber>10</PartNumber><ETag>\"c\"</ETag></Part>"
                  "</CompleteMultipartUpload>");
    // What we write, we read back.
    const auto root = parse_xml(body);
    REQUIRE(root.has_value());
    const auto parts = root->children_named("Part");
    REQUIRE(parts.size() == 3);
    CHECK(parts[0]->child_text("ETag") == "\"a&<>\"");
    CHECK(complete_multipart_body({}) ==
          "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
          "</CompleteMultipartUpload>");
}

TEST_CASE("xml: CompleteMultipartUpload carries each part's checksum in the element named") {
    const auto body = complete_multipart_body({{2, "\"b\"", "AAAAAg=="}, {1, "\"a\"", "AAAAAQ=="}},
                                              "ChecksumCRC32C");
    CHECK(body == "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                  "<Part><PartNumber>1</PartNumber><ETag>\"a\"</ETag>"
                  "<ChecksumCRC32C>AAAAAQ==</ChecksumCRC32C></Part>"
                  "<Part><PartNumber>2</PartNumber><ETag>\"b\"</ETag>"
                  "<ChecksumCRC32C>AAAAAg==</ChecksumCRC32C></Part>"
                  "</CompleteMultipartUpload>");
    // Without an element name (no --checksum-algorithm), no checksum is written.
    CHECK(complete_multipart_body({{1, "\"a\"", "AAAAAQ=="}}).find("Checksum") ==
          std::string::npos);
}

TEST_SUITE_END();
