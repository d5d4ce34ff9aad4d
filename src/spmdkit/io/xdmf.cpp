#include "spmdkit/io/xdmf.hpp"

#include <cstdio>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "spmdkit/io/atomic_file.hpp"
#include "spmdkit/runtime/error.hpp"

namespace spmd::io {

namespace {

std::string join(const std::vector<unsigned long long>& values) {
  return fmt::format("{}", fmt::join(values, " "));
}

std::string join(const std::vector<double>& values) {
  return fmt::format("{:.17g}", fmt::join(values, " "));
}

std::string escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace

void write_xdmf(const std::string& xmf_path, const std::string& h5_file_name, const XdmfGrid& grid,
                const std::vector<double>& times, const std::vector<XdmfField>& fields) {
  const std::size_t dims = grid.shape.size();
  if ((dims != 2 && dims != 3) || grid.origin.size() != dims || grid.spacing.size() != dims) {
    throw Error("write_xdmf: a 2-D or 3-D grid with origin and spacing per axis is needed");
  }
  const std::string topology = dims == 2 ? "2DCoRectMesh" : "3DCoRectMesh";
  const std::string geometry = dims == 2 ? "ORIGIN_DXDY" : "ORIGIN_DXDYDZ";
  const std::string shape = join(grid.shape);
  std::string xml;
  xml += "<?xml version=\"1.0\" ?>\n<!DOCTYPE Xdmf SYSTEM \"Xdmf.dtd\" []>\n";
  xml += "<Xdmf Version=\"2.0\">\n <Domain>\n";
  xml += "  <Grid Name=\"series\" GridType=\"Collection\" CollectionType=\"Temporal\">\n";
  for (std::size_t step = 0; step < times.size(); ++step) {
    xml += fmt::format("   <Grid Name=\"step{}\" GridType=\"Uniform\">\n", step);
    xml += fmt::format("    <Time Value=\"{:.17g}\"/>\n", times[step]);
    xml += fmt::format("    <Topology TopologyType=\"{}\" Dimensions=\"{}\"/>\n", topology, shape);
    xml += fmt::format("    <Geometry GeometryType=\"{}\">\n", geometry);
    xml += fmt::format(
        "     <DataItem Dimensions=\"{}\" NumberType=\"Float\" Precision=\"8\" Format=\"XML\">{}"
        "</DataItem>\n",
        dims, join(grid.origin));
    xml += fmt::format(
        "     <DataItem Dimensions=\"{}\" NumberType=\"Float\" Precision=\"8\" Format=\"XML\">{}"
        "</DataItem>\n",
        dims, join(grid.spacing));
    xml += "    </Geometry>\n";
    for (const auto& field : fields) {
      std::string number = "Float";
      if (field.integer) number = field.precision == 1 ? "Char" : "Int";
      if (field.integer && field.is_unsigned) number = "U" + number;
      xml += fmt::format("    <Attribute Name=\"{}\" AttributeType=\"Scalar\" Center=\"Node\">\n",
                         escape(field.name));
      xml += fmt::format(
          "     <DataItem ItemType=\"HyperSlab\" Dimensions=\"{}\" "
          "Type=\"HyperSlab\">\n",
          shape);
      // Rows: start, stride and count of the hyperslab -- one time step, the whole grid.
      const std::string start = std::to_string(step) + (dims == 2 ? " 0 0" : " 0 0 0");
      const std::string stride = dims == 2 ? "1 1 1" : "1 1 1 1";
      xml += fmt::format(
          "      <DataItem Dimensions=\"3 {}\" Format=\"XML\">{}  {}  1 {}"
          "</DataItem>\n",
          dims + 1, start, stride, shape);
      xml += fmt::format(
          "      <DataItem Dimensions=\"{} {}\" NumberType=\"{}\" Precision=\"{}\" "
          "Format=\"HDF\">{}:{}</DataItem>\n",
          times.size(), shape, number, field.precision, escape(h5_file_name),
          escape(field.dataset.starts_with('/') ? field.dataset : "/" + field.dataset));
      xml += "     </DataItem>\n    </Attribute>\n";
    }
    xml += "   </Grid>\n";
  }
  xml += "  </Grid>\n </Domain>\n</Xdmf>\n";

  write_text_atomically(xmf_path, xml);
}

}  // namespace spmd::io
