#include "spmdkit/patterns/reduce.hpp"

namespace spmd::detail {

ReductionTypes::~ReductionTypes() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized != 0) return;
  if (own_op_) MPI_Op_free(&op_);
  if (own_type_) MPI_Type_free(&type_);
}

MPI_Datatype bytes_type(std::size_t size) {
  MPI_Datatype type = MPI_DATATYPE_NULL;
  check_mpi(MPI_Type_contiguous(static_cast<int>(size), MPI_BYTE, &type), "MPI_Type_contiguous");
  check_mpi(MPI_Type_commit(&type), "MPI_Type_commit");
  return type;
}

MPI_Op user_op(MPI_User_function* function, bool commutative) {
  MPI_Op op = MPI_OP_NULL;
  check_mpi(MPI_Op_create(function, commutative ? 1 : 0, &op), "MPI_Op_create");
  return op;
}

}  // namespace spmd::detail
